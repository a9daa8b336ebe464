package natsnode

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/natstest"
)

// fields returns the field of every *fielderr.Error in err, sorted.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if !errors.As(e, &fe) {
			t.Errorf("not a *fielderr.Error: %v", e)
			continue
		}
		out = append(out, fe.Field)
	}
	slices.Sort(out)
	return out
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, dir, "ca")
	cert, key, _ := ca.issue(t, dir, "client")
	account, _ := nkeys.CreateAccount()
	accountSeed, _ := account.Seed()
	user, _ := nkeys.CreateUser()
	userSeed, _ := user.Seed()
	const ext = "nats://127.0.0.1:4222"

	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // fields in error, sorted; nil: valid
	}{
		{"zero value", Config{}, nil},
		{"embedded cluster", Config{JetStream: JetStreamConfig{Store: StoreFile, Dir: dir}, Listen: "127.0.0.1:4222", ServerName: "n1",
			Cluster: ClusterConfig{Listen: "0.0.0.0:6222", Routes: []string{"nats://10.0.0.2:6222", "nats-route://b:6222"}, Name: "c", User: "u", Password: "p"}}, nil},
		{"external with everything", Config{URL: "tls://a:4222, nats://b:4222", NkeySeed: string(userSeed),
			TLS: TLSConfig{CAFile: ca.File, CertFile: cert, KeyFile: key, MinVersion: "1.3"}, MaxPayload: 8 << 20}, nil},
		{"client port off loopback", Config{Listen: "0.0.0.0:4222"}, []string{"Listen"}},
		{"client port malformed", Config{Listen: "4222"}, []string{"Listen"}},
		{"server name with a space", Config{ServerName: "a b"}, []string{"ServerName"}},
		{"file store without dir", Config{JetStream: JetStreamConfig{Store: StoreFile}}, []string{"JetStream.Dir"}},
		{"unknown store", Config{JetStream: JetStreamConfig{Store: "disk"}}, []string{"JetStream.Store"}},
		{"replicas", Config{JetStream: JetStreamConfig{Replicas: 7}}, []string{"JetStream.Replicas"}},
		{"payload", Config{MaxPayload: 65<<20 + 1}, []string{"MaxPayload"}},
		{"negative payload", Config{MaxPayload: -1}, []string{"MaxPayload"}},
		{"cluster keys without listen", Config{Cluster: ClusterConfig{Routes: []string{"nats://a:1"}, Name: "x", User: "u", Password: "p"}},
			[]string{"Cluster.Name", "Cluster.Password", "Cluster.Routes", "Cluster.User"}},
		{"bad routes", Config{Cluster: ClusterConfig{Listen: ":6222", Routes: []string{"http://a:1", "nats://a", "nats://a:99999", "::"}}},
			[]string{"Cluster.Routes", "Cluster.Routes", "Cluster.Routes", "Cluster.Routes"}},
		{"cluster listen malformed", Config{Cluster: ClusterConfig{Listen: "6222", Routes: []string{"nats://a:1"}}}, []string{"Cluster.Listen"}},
		{"cluster without routes", Config{Cluster: ClusterConfig{Listen: ":6222"}}, []string{"Cluster.Routes"}},
		{"cluster password alone", Config{Cluster: ClusterConfig{Listen: ":6222", Routes: []string{"nats://a:1"}, Password: "p"}}, []string{"Cluster.Password"}},
		{"credentials without URL", Config{Token: "t", User: "u", Password: "p", NkeySeed: "s", Creds: "c", TLS: TLSConfig{CAFile: "ca.pem", MinVersion: "1.2"}},
			[]string{"Creds", "NkeySeed", "Password", "TLS", "Token", "User"}},
		{"embedded fields with URL", Config{URL: ext, Listen: "127.0.0.1:1", ServerName: "n", JetStream: JetStreamConfig{Dir: dir},
			Cluster: ClusterConfig{Listen: ":1", Routes: []string{"nats://a:1"}, Name: "c", User: "u", Password: "p"}},
			[]string{"Cluster.Listen", "Cluster.Name", "Cluster.Password", "Cluster.Routes", "Cluster.User", "JetStream.Dir", "Listen", "ServerName"}},
		{"bad URLs", Config{URL: "http://a:1,nats://,::"}, []string{"URL", "URL", "URL"}},
		{"two kinds of credentials", Config{URL: ext, Token: "t", User: "u", Password: "p"}, []string{"User"}},
		{"user without password", Config{URL: ext, User: "u"}, []string{"Password"}},
		{"seed that is not one", Config{URL: ext, NkeySeed: "SUnot-a-seed"}, []string{"NkeySeed"}},
		{"account seed", Config{URL: ext, NkeySeed: string(accountSeed)}, []string{"NkeySeed"}},
		{"creds that are not", Config{URL: ext, Creds: "-----BEGIN NATS USER JWT-----\nxyz\n------END NATS USER JWT------\n"}, []string{"Creds"}},
		{"creds without seed", Config{URL: ext, Creds: natstest.UserCreds(t, account)[:200]}, []string{"Creds"}},
		{"CA missing", Config{URL: ext, TLS: TLSConfig{CAFile: filepath.Join(dir, "missing.pem")}}, []string{"TLS.CAFile"}},
		{"CA garbage", Config{URL: ext, TLS: TLSConfig{CAFile: garbage}}, []string{"TLS.CAFile"}},
		{"cert without key", Config{URL: ext, TLS: TLSConfig{CertFile: cert}}, []string{"TLS.KeyFile"}},
		{"key without cert", Config{URL: ext, TLS: TLSConfig{KeyFile: key}}, []string{"TLS.CertFile"}},
		{"key that does not match", Config{URL: ext, TLS: TLSConfig{CertFile: cert, KeyFile: garbage}}, []string{"TLS.CertFile"}},
		{"TLS version", Config{URL: ext, TLS: TLSConfig{MinVersion: "1.1"}}, []string{"TLS.MinVersion"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if got := fields(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v; error: %v", got, tc.want, err)
			}
		})
	}
}

// TestValidateQuotesNoSecret checks that no error repeats a credential,
// even one set where it does not belong.
func TestValidateQuotesNoSecret(t *testing.T) {
	const secret = "hunter2-secret"
	for _, cfg := range []Config{
		{URL: "nats://" + secret + "@a:4222,http://u:" + secret + "@b:1"},
		{URL: "nats://a:1", NkeySeed: "SU" + secret, Token: secret},
		{URL: "nats://a:1", Creds: secret},
		{Token: secret, Password: secret, Cluster: ClusterConfig{Password: secret, Routes: []string{"http://u:" + secret + "@x:1"}}},
		{Cluster: ClusterConfig{Listen: ":1", Routes: []string{"http://u:" + secret + "@x:1", "nats://" + secret + "@y"}}},
	} {
		err := cfg.Validate()
		if err == nil {
			t.Fatalf("%+v: valid", cfg)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

func TestStartNamesTheFieldAtFault(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "nats://127.0.0.1:1", TLS: TLSConfig{CAFile: filepath.Join(dir, "missing.pem")}}, "TLS.CAFile"},
		{Config{JetStream: JetStreamConfig{Store: StoreFile, Dir: filepath.Join(blocker, "nats")}}, "JetStream.Dir"},
		{Config{Cluster: ClusterConfig{Listen: taken.Addr().String(), Routes: []string{"nats://" + taken.Addr().String()}}}, "Cluster.Listen"},
		{Config{Listen: taken.Addr().String()}, "Listen"},
	} {
		tc.cfg.Logger, _ = testLogger()
		n, err := Start(context.Background(), tc.cfg)
		if err == nil {
			closeNode(t, n)
			t.Errorf("%s: Start succeeded", tc.want)
			continue
		}
		if got := fields(t, err); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("Start error fields = %v, want %s: %v", got, tc.want, err)
		}
	}
}

func TestEmbeddedClientPortForTools(t *testing.T) {
	port, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := port.Addr().String()
	_ = port.Close()
	n := start(t, Config{Listen: addr})
	tool, err := nats.Connect("nats://" + addr)
	if err != nil {
		t.Fatalf("a tool cannot connect to Listen: %v", err)
	}
	defer tool.Close()
	sub, err := tool.SubscribeSync("events")
	if err != nil || tool.Flush() != nil {
		t.Fatal(err)
	}
	if err := n.Conn().Publish("events", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if msg, err := sub.NextMsg(waitTimeout); err != nil || string(msg.Data) != "hello" {
		t.Fatalf("tool received %v, %v", msg, err)
	}
}
