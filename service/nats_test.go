package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/natstest"
)

// natsWait bounds waits for connections and clusters: generous for a
// loaded 2-core machine running every package's race tests.
const natsWait = 30 * time.Second

// readiness returns the status of check name on the admin /readyz, or ""
// when it is not there, and the HTTP status.
func readiness(t *testing.T, r *running, name string) (string, int) {
	t.Helper()
	resp, body := get(t, r.adminBase()+"/readyz")
	rep := decode[report](t, body)
	if res := rep.Checks[name]; len(res) > 0 {
		return res[0].Status, resp.StatusCode
	}
	return "", resp.StatusCode
}

// waitReadiness waits until check name reports status.
func waitReadiness(t *testing.T, r *running, name, status string) {
	t.Helper()
	deadline := time.Now().Add(natsWait)
	for {
		got, _ := readiness(t, r, name)
		if got == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness %s = %q, want %q", name, got, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runToFailure runs a service that is expected not to start, and returns
// Run's error. A service that starts after all is stopped at natsWait, so
// the test fails rather than hangs.
func runToFailure(t *testing.T, svc *Service) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), natsWait)
	defer cancel()
	err := svc.Run(ctx)
	if err == nil {
		t.Error("the service started and ran until the test's deadline")
	}
	return err
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(natstest.FreePorts(t, 1)[0]))
}

// writeSecret writes a secret file and returns its path.
func writeSecret(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withStateHome points $XDG_STATE_HOME at a temporary directory for the
// test and returns it.
func withStateHome(t *testing.T) string {
	t.Helper()
	old := xdg.StateHome
	xdg.StateHome = t.TempDir()
	t.Cleanup(func() { xdg.StateHome = old })
	return xdg.StateHome
}

func TestNATSOffUnlessUsed(t *testing.T) {
	state := withStateHome(t)
	r := start(t, nil)
	if r.svc.NATS() != nil {
		t.Error("NATS runs although nothing uses it")
	}
	if status, _ := readiness(t, r, "nats"); status != "" {
		t.Errorf("readiness has a nats check (%s) although nothing uses NATS", status)
	}
	if _, err := os.Stat(filepath.Join(state, "test")); !os.IsNotExist(err) {
		t.Errorf("the state directory was created: %v", err)
	}
}

func TestNATSEmbedded(t *testing.T) {
	state := withStateHome(t)
	tools := freeAddr(t)
	r := start(t, map[string]string{
		"NATS__LISTEN":      tools,
		"NATS__SERVER_NAME": "orders-1",
		"NATS__MAX_PAYLOAD": "2MiB",
	}, WithNATS())
	nc := r.svc.NATS()
	if nc == nil || !nc.IsConnected() {
		t.Fatalf("NATS() = %v after start", nc)
	}
	if status, code := readiness(t, r, "nats"); status != StatusPass || code != 200 {
		t.Errorf("readiness nats = %s (%d)", status, code)
	}

	// nats.listen: a tool reaches the embedded server and the service's
	// subscribers; nats.server_name and nats.max_payload are the server's.
	tool, err := nats.Connect("nats://" + tools)
	if err != nil {
		t.Fatalf("a tool cannot connect to nats.listen: %v", err)
	}
	defer tool.Close()
	if got := tool.ConnectedServerName(); got != "orders-1" {
		t.Errorf("server name = %q, want nats.server_name", got)
	}
	if got := tool.MaxPayload(); got != 2<<20 {
		t.Errorf("max payload = %d, want nats.max_payload", got)
	}
	sub, err := nc.SubscribeSync("hello")
	if err != nil || nc.Flush() != nil {
		t.Fatal(err)
	}
	if err := tool.Publish("hello", []byte("from a tool")); err != nil {
		t.Fatal(err)
	}
	if msg, err := sub.NextMsg(natsWait); err != nil || string(msg.Data) != "from a tool" {
		t.Fatalf("received %v, %v", msg, err)
	}

	// nats.jetstream.dir defaults to $XDG_STATE_HOME/<service>/nats.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsWait)
	defer cancel()
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "notes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "test", "nats", "jetstream", "$G", "streams", "KV_notes")); err != nil {
		t.Errorf("the bucket is not under $XDG_STATE_HOME/test/nats: %v", err)
	}

	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if r.svc.NATS() != nil {
		t.Error("NATS() after shutdown is not nil")
	}
	mustContain(t, r.logs.String(), "NATS: embedded server started", "NATS: closed")
}

func TestNATSJetStreamStoreAndDir(t *testing.T) {
	state := withStateHome(t)
	dir := filepath.Join(t.TempDir(), "data")
	start(t, map[string]string{"NATS__JETSTREAM__DIR": dir}, WithNATS())
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		t.Errorf("nats.jetstream.dir not used: %v", err)
	}
	start(t, map[string]string{"NATS__JETSTREAM__STORE": "memory"}, WithNATS())
	if _, err := os.Stat(filepath.Join(state, "test", "nats")); !os.IsNotExist(err) {
		t.Errorf("a memory store wrote to $XDG_STATE_HOME: %v", err)
	}
}

func TestNATSExternal(t *testing.T) {
	s := natstest.RunWith(t, natsOptions(t, func(o *server.Options) { o.Authorization = "t0ken" }))
	r := start(t, map[string]string{
		"NATS__URL":        s.ClientURL(),
		"NATS__TOKEN_FILE": writeSecret(t, "t0ken"),
		"NATS__NAME":       "orders-conn",
	})
	if nc := r.svc.NATS(); nc == nil || !nc.IsConnected() {
		t.Fatalf("not connected: %v", nc)
	}
	conns, err := s.Connz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns.Conns) != 1 || conns.Conns[0].Name != "orders-conn" {
		t.Errorf("server sees %+v, want one connection named by nats.name", conns.Conns)
	}
	waitReadiness(t, r, "nats", StatusPass)
}

// natsOptions returns natstest's options for a server on a free port,
// changed by mutate.
func natsOptions(t *testing.T, mutate func(*server.Options)) *server.Options {
	t.Helper()
	opts := natstest.Options(t.TempDir())
	if mutate != nil {
		mutate(opts)
	}
	return opts
}

func TestNATSDisconnectedFailsOrWarnsReadiness(t *testing.T) {
	for _, optional := range []bool{false, true} {
		t.Run("optional="+strconv.FormatBool(optional), func(t *testing.T) {
			opts := natsOptions(t, nil)
			opts.Port = natstest.FreePorts(t, 1)[0]
			s := natstest.RunWith(t, opts)
			r := start(t, map[string]string{"NATS__URL": s.ClientURL(), "NATS__OPTIONAL": strconv.FormatBool(optional)})
			waitReadiness(t, r, "nats", StatusPass)

			s.Shutdown()
			s.WaitForShutdown()
			want, wantCode := StatusFail, 503
			if optional {
				want, wantCode = StatusWarn, 200
			}
			waitReadiness(t, r, "nats", want)
			if _, code := readiness(t, r, "nats"); code != wantCode {
				t.Errorf("/readyz while NATS is down = %d, want %d", code, wantCode)
			}
			if err := r.svc.NATS().Publish("x", nil); !errors.Is(err, nats.ErrReconnectBufExceeded) {
				t.Errorf("Publish while down = %v, want a fast failure", err)
			}

			again := natsOptions(t, nil)
			again.Port = opts.Port
			natstest.RunWith(t, again)
			waitReadiness(t, r, "nats", StatusPass)
		})
	}
}

func TestNATSConnectTimeout(t *testing.T) {
	url := "nats://" + freeAddr(t)
	svc, err := New("test", WithConfigLoader(testLoader(t, map[string]string{
		"NATS__URL": url, "NATS__CONNECT_TIMEOUT": "300ms",
	})), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	err = runToFailure(t, svc)
	if err == nil || !strings.Contains(err.Error(), "nats.url") || !strings.Contains(err.Error(), "nats.connect_timeout (300ms)") {
		t.Fatalf("Run with NATS down = %v, want an error naming nats.url and the timeout", err)
	}
	if d := time.Since(begin); d > natsWait {
		t.Errorf("Run took %s to give up", d)
	}

	// nats.optional: the service starts without NATS and warns.
	r := start(t, map[string]string{"NATS__URL": url, "NATS__CONNECT_TIMEOUT": "300ms", "NATS__OPTIONAL": "true"})
	waitReadiness(t, r, "nats", StatusWarn)
}

func TestNATSCredentials(t *testing.T) {
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	seed, _ := user.Seed()
	operator, creds, _ := natstest.OperatorMode(t)
	for _, tc := range []struct {
		name   string
		server func(*server.Options)
		env    map[string]string
	}{
		{"user and password", func(o *server.Options) { o.Username, o.Password = "app", "pa55" },
			map[string]string{"NATS__USER": "app", "NATS__PASSWORD_FILE": writeSecret(t, "pa55")}},
		{"nkey seed", func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: userPub}} },
			map[string]string{"NATS__NKEY_SEED_FILE": writeSecret(t, string(seed))}},
		{"creds", operator, map[string]string{"NATS__CREDS_FILE": writeSecret(t, creds)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := natstest.RunWith(t, natsOptions(t, tc.server))
			tc.env["NATS__URL"] = s.ClientURL()
			r := start(t, tc.env)
			if nc := r.svc.NATS(); nc == nil || !nc.IsConnected() {
				t.Fatal("not connected")
			}

			if tc.name != "user and password" {
				return
			}
			// Without the credentials the server refuses the service,
			// which then does not start (natsnode's tests refuse every
			// kind of wrong credentials).
			svc, err := New("test", WithConfigLoader(testLoader(t, map[string]string{
				"NATS__URL": s.ClientURL(), "NATS__CONNECT_TIMEOUT": "2s",
			})), WithLogOutput(&syncBuffer{}))
			if err != nil {
				t.Fatal(err)
			}
			err = runToFailure(t, svc)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Errorf("Run without credentials = %v, want an authorization violation", err)
			}
		})
	}
}

func TestNATSTLS(t *testing.T) {
	dir := t.TempDir()
	caKey, caCert, caFile := testCA(t, dir)
	serverCert, _, _ := issue(t, dir, "server", caKey, caCert)
	_, clientCert, clientKey := issue(t, dir, "client", caKey, caCert)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	s := natstest.RunWith(t, natsOptions(t, func(o *server.Options) {
		o.TLS, o.TLSVerify, o.TLSTimeout = true, true, 5
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	}))
	r := start(t, map[string]string{
		"NATS__URL": s.ClientURL(), "NATS__TLS__CA_FILE": caFile, "NATS__TLS__CERT_FILE": clientCert,
		"NATS__TLS__KEY_FILE": clientKey, "NATS__TLS__MIN_VERSION": "1.3",
	})
	if nc := r.svc.NATS(); nc == nil || !nc.IsConnected() {
		t.Fatal("not connected over TLS")
	}
	conns, err := s.Connz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns.Conns) != 1 || conns.Conns[0].TLSVersion != "1.3" {
		t.Errorf("server sees %+v, want one TLS 1.3 connection", conns.Conns)
	}

	// nats.tls.min_version: a server that stops at TLS 1.2 is refused.
	old := natstest.RunWith(t, natsOptions(t, func(o *server.Options) {
		o.TLS, o.TLSTimeout = true, 5
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{serverCert}, MaxVersion: tls.VersionTLS12}
	}))
	svc, err := New("test", WithConfigLoader(testLoader(t, map[string]string{
		"NATS__URL": old.ClientURL(), "NATS__TLS__CA_FILE": caFile, "NATS__TLS__MIN_VERSION": "1.3", "NATS__CONNECT_TIMEOUT": "2s",
	})), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := runToFailure(t, svc); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("Run against a TLS 1.2 server with min_version 1.3 = %v, want a refusal", err)
	}
	start(t, map[string]string{"NATS__URL": old.ClientURL(), "NATS__TLS__CA_FILE": caFile, "NATS__TLS__MIN_VERSION": "1.2"})

	// A CA file that is not one fails New, naming the key.
	_, err = New("test", WithConfigLoader(testLoader(t, map[string]string{
		"NATS__URL": s.ClientURL(), "NATS__TLS__CA_FILE": clientKey,
	})), WithLogOutput(&syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "nats.tls.ca_file") {
		t.Errorf("New with a key as CA = %v, want an error naming nats.tls.ca_file", err)
	}
}

// testCA makes a CA, writes its certificate to dir and returns it.
func testCA(t *testing.T, dir string) (*ecdsa.PrivateKey, *x509.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(dir, "ca.pem")
	writePEMFile(t, file, "CERTIFICATE", der)
	return key, cert, file
}

// issue signs a certificate for 127.0.0.1 and writes it and its key.
func issue(t *testing.T, dir, name string, caKey *ecdsa.PrivateKey, ca *x509.Certificate) (tls.Certificate, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEMFile(t, certFile, "CERTIFICATE", der)
	writePEMFile(t, keyFile, "EC PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

func writePEMFile(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNATSEmbeddedCluster(t *testing.T) {
	withStateHome(t)
	ports := natstest.FreePorts(t, 3)
	routes := make([]string, len(ports))
	for i, p := range ports {
		routes[i] = "nats://127.0.0.1:" + strconv.Itoa(p)
	}
	nodes := make([]*running, len(ports))
	for i, p := range ports {
		nodes[i] = start(t, map[string]string{
			"NATS__CLUSTER__LISTEN":        "127.0.0.1:" + strconv.Itoa(p),
			"NATS__CLUSTER__ROUTES":        strings.Join(routes, ","),
			"NATS__CLUSTER__NAME":          "orders",
			"NATS__CLUSTER__USER":          "route",
			"NATS__CLUSTER__PASSWORD_FILE": writeSecret(t, "s3cret"),
			"NATS__JETSTREAM__DIR":         filepath.Join(t.TempDir(), strconv.Itoa(i)),
		})
	}
	first, last := nodes[0].svc.NATS(), nodes[2].svc.NATS()
	if got := first.ConnectedClusterName(); got != "orders" {
		t.Errorf("cluster name = %q, want nats.cluster.name", got)
	}
	for i, n := range nodes {
		waitFor(t, func() bool { return routesMetric(t, n) == 2 })
		if name := n.svc.NATS().ConnectedServerName(); name != defaultServerName(t, ports[i]) {
			t.Errorf("node %d: server name %q", i+1, name)
		}
	}

	// A message crosses the routes, and a 3-replica bucket can be made.
	sub, err := last.SubscribeSync("orders.created")
	if err != nil || last.Flush() != nil {
		t.Fatal(err)
	}
	var msg *nats.Msg
	deadline := time.Now().Add(natsWait)
	for msg == nil && time.Now().Before(deadline) {
		if err := first.Publish("orders.created", []byte("42")); err != nil {
			t.Fatal(err)
		}
		msg, _ = sub.NextMsg(100 * time.Millisecond)
	}
	if msg == nil {
		t.Fatal("a message published on node 1 did not reach node 3")
	}
	js, err := jetstream.New(first)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(natsWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "notes", Replicas: 3})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a 3-replica bucket: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A node with the wrong route password does not join.
	intruder := start(t, map[string]string{
		"NATS__CLUSTER__LISTEN":   freeAddr(t),
		"NATS__CLUSTER__ROUTES":   routes[0],
		"NATS__CLUSTER__NAME":     "orders",
		"NATS__CLUSTER__USER":     "route",
		"NATS__CLUSTER__PASSWORD": "guess",
	})
	time.Sleep(2 * time.Second) // several route attempts
	if n := routesMetric(t, intruder); n != 0 {
		t.Errorf("a node with the wrong route password has %d routes", n)
	}
	if n := routesMetric(t, nodes[0]); n != 2 {
		t.Errorf("node 1 has %d routes after the intruder tried, want 2", n)
	}
}

// defaultServerName is the embedded server's name for route port port.
func defaultServerName(t *testing.T, port int) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return host + "-" + strconv.Itoa(port)
}

// routesMetric reads troupe_nats_server_routes from the admin /metrics.
func routesMetric(t *testing.T, r *running) int {
	t.Helper()
	if f := scrape(t, r.adminBase()+"/metrics")["troupe_nats_server_routes"]; f != nil && len(f.GetMetric()) == 1 {
		return int(f.GetMetric()[0].GetGauge().GetValue())
	}
	return -1
}

func TestNATSClusterNameDefaultsToTheService(t *testing.T) {
	withStateHome(t)
	addr := freeAddr(t)
	r := start(t, map[string]string{"NATS__CLUSTER__LISTEN": addr, "NATS__CLUSTER__ROUTES": "nats://" + addr})
	if got := r.svc.NATS().ConnectedClusterName(); got != "test" {
		t.Errorf("cluster name = %q, want the service's name", got)
	}
}

// TestNATSStaysOpenWhileActorsStop checks the shutdown order: an actor
// that publishes as it stops still reaches NATS, so the connection closes
// after the actors.
func TestNATSStaysOpenWhileActorsStop(t *testing.T) {
	s := natstest.Run(t)
	watcher := natstest.Connect(t, s)
	sub, err := watcher.SubscribeSync("goodbye")
	if err != nil || watcher.Flush() != nil {
		t.Fatal(err)
	}
	var svc *Service
	farewell := actorFunc(func(_ *actors.Context, msg any) {
		if _, ok := msg.(actors.Stopped); ok {
			if err := svc.NATS().Publish("goodbye", []byte("stopped")); err != nil {
				t.Errorf("publishing as the actor stops: %v", err)
			}
		}
	})
	r := start(t, map[string]string{"NATS__URL": s.ClientURL()},
		WithActor("farewell", func() actors.Actor { return farewell }),
		WithSetup(func(s *Service) error { svc = s; return nil }))
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if msg, err := sub.NextMsg(natsWait); err != nil || string(msg.Data) != "stopped" {
		t.Fatalf("the actor's farewell: %v, %v", msg, err)
	}
	actorsStopped, natsClosed := -1, -1
	for i, line := range strings.Split(r.logs.String(), "\n") {
		switch {
		case strings.Contains(line, "subsystem stopped") && strings.Contains(line, `"subsystem":"actors"`):
			actorsStopped = i
		case strings.Contains(line, "NATS: closed"):
			natsClosed = i
		}
	}
	if actorsStopped < 0 || natsClosed < actorsStopped {
		t.Errorf("NATS closed (log line %d) before the actors stopped (line %d):\n%s", natsClosed, actorsStopped, r.logs)
	}
}

func TestNATSConfigErrorsNameTheirKeys(t *testing.T) {
	const secret = "SUnot-really-a-seed-hunter2"
	for _, tc := range []struct {
		env  map[string]string
		keys []string
	}{
		{map[string]string{ // embedded
			"NATS__LISTEN": "0.0.0.0:4222", "NATS__JETSTREAM__STORE": "disk", "NATS__TOKEN": "t",
			"NATS__CONNECT_TIMEOUT": "0s", "NATS__MAX_PAYLOAD": "65MiB", "NATS__SERVER_NAME": "a b",
			"NATS__CLUSTER__LISTEN": "6222", "NATS__CLUSTER__PASSWORD": "p", "NATS__TLS__MIN_VERSION": "1.1",
		}, []string{
			"nats.listen (from env TEST_NATS__LISTEN)", "nats.jetstream.store", "nats.token", "nats.connect_timeout",
			"nats.max_payload", "nats.server_name", "nats.cluster.listen", "nats.cluster.password", "nats.tls.min_version",
		}},
		{map[string]string{"NATS__CLUSTER__ROUTES": "nats://a:1"}, []string{"nats.cluster.routes"}},
		{map[string]string{ // external
			"NATS__URL": "nats://127.0.0.1:4222,http://x", "NATS__NKEY_SEED": secret, "NATS__JETSTREAM__DIR": "/tmp/x",
			"NATS__TLS__KEY_FILE": "key.pem", "NATS__CLUSTER__NAME": "c",
		}, []string{"nats.url", "nats.nkey_seed", "nats.jetstream.dir", "nats.tls.cert_file", "nats.cluster.name"}},
	} {
		_, err := New("test", WithConfigLoader(testLoader(t, tc.env)), WithLogOutput(&syncBuffer{}))
		if err == nil {
			t.Fatalf("New(%v) succeeded", tc.env)
		}
		mustContain(t, err.Error(), tc.keys...)
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}
