package service

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

func TestPortInUseFailsRunNamingTheKey(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	svc, err := New("test", WithConfigLoader(testLoader(t, map[string]string{"HTTP__ADDRESS": taken.Addr().String()})), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Run(context.Background())
	if err == nil {
		t.Fatal("Run bound a port that is in use")
	}
	mustContain(t, err.Error(), "http.address", taken.Addr().String(), "TEST_HTTP__ADDRESS")
}

func TestSlowlorisClientIsCutOff(t *testing.T) {
	r := start(t, map[string]string{"HTTP__READ_HEADER_TIMEOUT": "200ms"})
	conn, err := net.Dial("tcp", r.svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Send an incomplete header, then nothing: the server must close the
	// connection once read_header_timeout passes rather than wait forever.
	if _, err := io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// The bound is below the 5s default, so a service ignoring the key fails.
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server held a slowloris connection open")
	}
}

func TestOversizedHeadersAreRejected(t *testing.T) {
	r := start(t, map[string]string{"HTTP__MAX_HEADER_BYTES": "1KiB"})
	req, _ := http.NewRequest(http.MethodGet, r.base()+"/api/v1/x", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("8 KiB header with a 1 KiB limit = %d, want 431", resp.StatusCode)
	}
}

func TestRouterErrorsAreProblems(t *testing.T) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/things", okHandler) })
	r := start(t, nil, WithAPI(api))
	for path, want := range map[string]int{"/nowhere": 404, "/api/v1/things": 405} {
		req, _ := http.NewRequest(http.MethodPut, r.base()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("PUT %s = %d %s, want %d problem+json", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
		mustContain(t, string(body), `"status":`, `"request_id":"`+resp.Header.Get("X-Request-ID")+`"`)
	}
}

// longRequestAPI serves /api/v1/slow, which answers only when release closes,
// and signals entered when a request is inside the handler.
func longRequestAPI(entered chan<- struct{}, release <-chan struct{}) *versioning.API {
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/slow", func(c echo.Context) error {
			entered <- struct{}{}
			<-release
			return c.String(http.StatusOK, "finished")
		})
	})
}

func TestSIGTERMLetsInFlightRequestFinish(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	r := start(t, map[string]string{"HTTP__SHUTDOWN_TIMEOUT": "10s"}, WithAPI(longRequestAPI(entered, release)))

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.base() + "/api/v1/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	<-entered
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Readiness fails while the request is still running.
	waitFor(t, func() bool {
		resp, _ := get(t, r.adminBase()+"/readyz")
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	close(release)
	res := <-got
	if res.err != nil || res.status != http.StatusOK || res.body != "finished" {
		t.Fatalf("in-flight request during SIGTERM = %d %q %v", res.status, res.body, res.err)
	}
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("Run after SIGTERM = %v, want nil", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	mustContain(t, r.logs.String(), `"signal":"terminated"`)
}

func TestShutdownTimeoutCancelsStragglers(t *testing.T) {
	entered := make(chan struct{}, 1)
	cancelled := make(chan struct{})
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/stuck", func(c echo.Context) error {
			entered <- struct{}{}
			<-c.Request().Context().Done()
			close(cancelled)
			return c.Request().Context().Err()
		})
	})
	r := start(t, map[string]string{"HTTP__SHUTDOWN_TIMEOUT": "200ms", "HTTP__REQUEST_TIMEOUT": "0s", "HTTP__WRITE_TIMEOUT": "0s"}, WithAPI(api))
	go func() {
		resp, err := http.Get(r.base() + "/api/v1/stuck")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	err := r.stop(t)
	if err == nil || !strings.Contains(err.Error(), "http.shutdown_timeout") {
		t.Fatalf("Run = %v, want the shutdown timeout named", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("straggler's context was not cancelled after the shutdown timeout")
	}
}

func TestSecondSignalForcesExit(t *testing.T) {
	forced := make(chan struct{})
	old := exitOnSecondSignal
	exitOnSecondSignal = func() { close(forced) }
	defer func() { exitOnSecondSignal = old }()

	r := start(t, map[string]string{"HTTP__DRAIN_DELAY": "3s"})
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(r.logs.String(), "shutdown requested") })
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-forced:
	case <-time.After(10 * time.Second):
		t.Fatal("second signal did not force exit")
	}
}

func TestTLSListener(t *testing.T) {
	certFile, keyFile := writeSelfSigned(t)
	r := start(t, map[string]string{"HTTP__TLS__CERT_FILE": certFile, "HTTP__TLS__KEY_FILE": keyFile, "HTTP__TLS__MIN_VERSION": "1.3"})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + r.svc.Addr().String() + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("TLS /livez = %d tls=%v", resp.StatusCode, resp.TLS)
	}
	// Never a plaintext fallback.
	conn, err := net.Dial("tcp", r.svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if strings.Contains(line, "200") {
		t.Fatalf("TLS listener answered plaintext: %q", line)
	}
	// TLS 1.2 is refused when the minimum is 1.3.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}}}
	if resp, err := old.Get("https://" + r.svc.Addr().String() + "/livez"); err == nil {
		resp.Body.Close()
		t.Fatal("TLS 1.2 client accepted with min_version 1.3")
	}
}

func TestBrokenTLSConfigFailsNew(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	_, err := New("test", WithLogOutput(&syncBuffer{}), WithConfigLoader(testLoader(t, map[string]string{
		"HTTP__TLS__CERT_FILE": missing, "HTTP__TLS__KEY_FILE": missing,
	})))
	if err == nil {
		t.Fatal("New accepted a missing certificate")
	}
	mustContain(t, err.Error(), "http.tls.cert_file", missing)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
