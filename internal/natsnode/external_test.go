package natsnode

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/troupehq/troupe/internal/natstest"
)

// externalServer starts a NATS server on a free loopback port with opts
// changed by mutate.
func externalServer(t *testing.T, mutate func(*server.Options)) *server.Server {
	t.Helper()
	opts := natstest.Options(t.TempDir())
	if mutate != nil {
		mutate(opts)
	}
	return natstest.RunWith(t, opts)
}

// waitConnected waits for n's connection, failing the test with the
// node's own explanation.
func waitConnected(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := n.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
}

// waitRefused waits until n reports a connection error containing want
// (in any case: nats.go and the server spell the same error differently),
// and checks that it is still not connected: the server refused it.
func waitRefused(t *testing.T, n *Node, want string) {
	t.Helper()
	var err error
	deadline := time.Now().Add(waitTimeout)
	for err = n.Check(context.Background()); err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)); err = n.Check(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatalf("Check = %v; want a refusal mentioning %q", err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, ErrUnavailable) || !IsUnavailable(err) {
		t.Errorf("Check = %v, which does not match ErrUnavailable", err)
	}
	if n.Conn().IsConnected() {
		t.Error("connected despite the refusal")
	}
}

// roundTrip checks that n's connection carries a request and its reply.
func roundTrip(t *testing.T, n *Node) {
	t.Helper()
	nc := n.Conn()
	sub, err := nc.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	reply, err := nc.Request("echo", []byte("ping"), 5*time.Second)
	if err != nil || string(reply.Data) != "ping" {
		t.Fatalf("request = %v, %v", reply, err)
	}
}

func TestExternalCredentials(t *testing.T) {
	userKey, _ := nkeys.CreateUser()
	userPub, _ := userKey.PublicKey()
	userSeed, _ := userKey.Seed()
	otherKey, _ := nkeys.CreateUser()
	otherSeed, _ := otherKey.Seed()
	operatorServer, creds, otherCreds := natstest.OperatorMode(t)

	for _, tc := range []struct {
		name      string
		server    func(*server.Options)
		good, bad Config
	}{
		{"token", func(o *server.Options) { o.Authorization = "t0ken" },
			Config{Token: "t0ken"}, Config{Token: "wrong"}},
		{"user and password", func(o *server.Options) { o.Username, o.Password = "app", "pa55" },
			Config{User: "app", Password: "pa55"}, Config{User: "app", Password: "wrong"}},
		{"nkey", func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: userPub}} },
			Config{NkeySeed: string(userSeed)}, Config{NkeySeed: string(otherSeed)}},
		{"creds", operatorServer, Config{Creds: creds}, Config{Creds: otherCreds}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := externalServer(t, tc.server)
			tc.good.URL, tc.bad.URL = s.ClientURL(), s.ClientURL()

			n := start(t, tc.good)
			waitConnected(t, n)
			roundTrip(t, n)

			refused := start(t, tc.bad)
			waitRefused(t, refused, "nats: authorization violation")

			none := start(t, Config{URL: s.ClientURL()})
			waitRefused(t, none, "nats: authorization violation")
		})
	}
}

func TestExternalTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "good")
	rogue := newTestCA(t, dir, "rogue")
	_, _, serverPair := ca.issue(t, dir, "server")
	clientCert, clientKey, _ := ca.issue(t, dir, "client")
	rogueCert, rogueKey, _ := rogue.issue(t, dir, "rogue-client")

	s := externalServer(t, func(o *server.Options) {
		o.TLS, o.TLSVerify, o.TLSTimeout = true, true, 5
		o.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{serverPair},
			ClientCAs:    ca.pool(),
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		}
	})
	url := s.ClientURL()

	n := start(t, Config{URL: url, TLS: TLSConfig{CAFile: ca.File, CertFile: clientCert, KeyFile: clientKey, MinVersion: "1.3"}})
	waitConnected(t, n)
	roundTrip(t, n)
	if v := n.Conn().ConnectedServerVersion(); v == "" {
		t.Error("no server version")
	}
	if state, err := n.Conn().TLSConnectionState(); err != nil || state.Version != tls.VersionTLS13 {
		t.Errorf("TLS state = %x, %v; want TLS 1.3", state.Version, err)
	}

	t.Run("server signed by another CA", func(t *testing.T) {
		n := start(t, Config{URL: url, TLS: TLSConfig{CAFile: rogue.File, CertFile: clientCert, KeyFile: clientKey}})
		waitRefused(t, n, "certificate signed by unknown authority")
	})
	t.Run("client certificate from another CA", func(t *testing.T) {
		n := start(t, Config{URL: url, TLS: TLSConfig{CAFile: ca.File, CertFile: rogueCert, KeyFile: rogueKey}})
		waitRefused(t, n, "tls")
	})
	t.Run("TLS 1.3 required of a server stopping at 1.2", func(t *testing.T) {
		tls12 := externalServer(t, func(o *server.Options) {
			o.TLS, o.TLSTimeout = true, 5
			o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverPair}, MaxVersion: tls.VersionTLS12}
		})
		n := start(t, Config{URL: tls12.ClientURL(), TLS: TLSConfig{CAFile: ca.File, MinVersion: "1.3"}})
		waitRefused(t, n, "protocol version")
		ok := start(t, Config{URL: tls12.ClientURL(), TLS: TLSConfig{CAFile: ca.File, MinVersion: "1.2"}})
		waitConnected(t, ok)
	})
	t.Run("TLS required of a server without it", func(t *testing.T) {
		plain := externalServer(t, nil)
		n := start(t, Config{URL: plain.ClientURL(), TLS: TLSConfig{CAFile: ca.File}})
		waitRefused(t, n, "secure connection not available")
		tlsURL := "tls://" + strings.TrimPrefix(plain.ClientURL(), "nats://")
		bare := start(t, Config{URL: tlsURL, TLS: TLSConfig{MinVersion: "1.3"}})
		waitRefused(t, bare, "secure connection not available")
	})
}

func TestExternalStartsWhileNATSIsDown(t *testing.T) {
	port := natstest.FreePorts(t, 1)[0]
	url := "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n := start(t, Config{URL: url})

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := n.WaitConnected(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("WaitConnected with no server = %v, want ErrUnavailable", err)
	}
	if err := n.Conn().Publish("x", nil); !IsUnavailable(err) {
		t.Errorf("Publish while down = %v, want an error IsUnavailable recognises", err)
	}

	opts := natstest.Options(t.TempDir())
	opts.Port = port
	natstest.RunWith(t, opts)
	waitConnected(t, n)
	roundTrip(t, n)
}
