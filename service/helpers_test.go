package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/syncbuf"
)

// syncBuffer collects a service's logs while the test reads them.
type syncBuffer = syncbuf.Buffer

// relaxedRedisTimeout is the redis.timeout of tests about what Redis
// stores rather than how long it may take: on a loaded CI machine running
// every package's race tests, scheduling alone can exceed the 50ms
// default, and one decision left to the failure policy would miscount.
// The budget itself is tested in redis_freeze_test.go.
const relaxedRedisTimeout = "1s"

// testLoader isolates a test from the machine's XDG files, working
// directory and environment: only env (keys without the TEST_ prefix) counts.
func testLoader(t testing.TB, env map[string]string) config.Loader {
	t.Helper()
	environ := []string{
		"TEST_HTTP__ADDRESS=127.0.0.1:0",
		"TEST_ADMIN__ADDRESS=127.0.0.1:0",
		"TEST_HTTP__DRAIN_DELAY=0s",
		"TEST_HEALTH__CACHE_TTL=0s",
	}
	for k, v := range env {
		environ = append(environ, "TEST_"+k+"="+v)
	}
	return config.Loader{
		Environ:    environ,
		ConfigHome: t.TempDir(),
		ConfigDirs: []string{},
		WorkDir:    t.TempDir(),
	}
}

type running struct {
	svc    *Service
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns; err holds its result
	err    error
}

// base returns the main listener's URL.
func (r *running) base() string { return "http://" + r.svc.Addr().String() }

// adminBase returns the admin listener's URL.
func (r *running) adminBase() string { return "http://" + r.svc.AdminAddr().String() }

// stop cancels Run and returns its result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// start builds the service "test" with env overrides and runs it until the
// test ends.
func start(t *testing.T, env map[string]string, opts ...Option) *running {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]Option{WithConfigLoader(testLoader(t, env)), WithLogOutput(logs)}, opts...)
	svc, err := New("test", opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{svc: svc, logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = svc.Run(ctx); close(r.done) }()
	select {
	case <-svc.Started():
	case <-r.done:
		t.Fatalf("Run: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("service did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
		}
	})
	return r
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp, body
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	return v
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q does not contain %q", s, p)
		}
	}
}
