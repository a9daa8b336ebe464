// Package servicetest starts a real Troupe service on loopback for tests, in
// the manner of nats-server's test.RunServer: one helper, real listeners on
// free ports, isolated from the machine's config files and environment.
package servicetest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/syncbuf"
	"github.com/troupehq/troupe/service"
)

// Loader returns a config loader that sees only env — keys without the
// service's prefix, e.g. "HTTP__BODY_LIMIT" — plus loopback addresses on free
// ports, no drain delay and no health cache.
func Loader(t testing.TB, name string, env map[string]string) config.Loader {
	t.Helper()
	prefix := config.EnvPrefix(name)
	environ := []string{
		prefix + "HTTP__ADDRESS=127.0.0.1:0",
		prefix + "ADMIN__ADDRESS=127.0.0.1:0",
		prefix + "HTTP__DRAIN_DELAY=0s",
		prefix + "HEALTH__CACHE_TTL=0s",
	}
	for k, v := range env {
		environ = append(environ, prefix+k+"="+v)
	}
	return config.Loader{Environ: environ, ConfigHome: t.TempDir(), ConfigDirs: []string{}, WorkDir: t.TempDir()}
}

// Service is a service running for the length of a test.
type Service struct {
	*service.Service
	// Logs holds everything the service logged.
	Logs *syncbuf.Buffer
	// URL is the main listener's base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// AdminURL is the admin listener's base URL.
	AdminURL string

	cancel context.CancelFunc
	done   chan error
}

// Start builds the service with New and runs it until the test ends. It
// fails the test if the service does not start.
func Start(t testing.TB, name string, env map[string]string, opts ...service.Option) *Service {
	t.Helper()
	logs := &syncbuf.Buffer{}
	opts = append([]service.Option{service.WithConfigLoader(Loader(t, name, env)), service.WithLogOutput(logs)}, opts...)
	svc, err := service.New(name, opts...)
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{Service: svc, Logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- svc.Run(ctx) }()
	select {
	case <-svc.Started():
	case err := <-s.done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("service did not start within 10s")
	}
	s.URL = "http://" + svc.Addr().String()
	if a := svc.AdminAddr(); a != nil {
		s.AdminURL = "http://" + a.String()
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// Stop ends Run and returns its result. It is safe to call more than once.
func (s *Service) Stop() error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
			return err
		}
		return nil
	case <-time.After(30 * time.Second):
		return context.DeadlineExceeded
	}
}

// Do sends a request with an optional body and returns the response with its
// body read.
func (s *Service) Do(t testing.TB, method, path, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}
