package resilience

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// verifyNoLeaks checks, after every other cleanup of t (servers
// included), that t left no goroutine behind.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// scripted is a test server answering each request with the next status
// of its script (the last one repeats), and Retry-After when set.
type scripted struct {
	*httptest.Server
	hits       atomic.Int64
	bodies     chan string
	retryAfter string
}

func newScripted(t *testing.T, statuses ...int) *scripted {
	s := &scripted{bodies: make(chan string, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		b, _ := io.ReadAll(r.Body)
		s.bodies <- string(b)
		status := statuses[min(n, len(statuses)-1)]
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

// testClientConfig returns a config whose waits are recorded instead of
// slept and whose jitter is always the largest, on a frozen clock.
func testClientConfig(waits *[]time.Duration) ClientConfig {
	now := time.Unix(1_700_000_000, 0)
	cfg := DefaultClientConfig
	cfg.MaxRetries = 3
	cfg.BackoffBase = 10 * time.Millisecond
	cfg.BackoffMax = 2 * time.Second
	cfg.Logger = discardLogger
	cfg.now = func() time.Time { return now }
	cfg.sleep = func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return nil
	}
	cfg.randN = func(n int64) int64 { return n - 1 }
	return cfg
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, error) {
	t.Helper()
	res, err := c.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	return res, err
}

func TestClientRetries(t *testing.T) {
	verifyNoLeaks(t)
	cases := []struct {
		name     string
		method   string
		body     io.Reader
		key      string
		statuses []int
		want     int   // final status
		hits     int64 // requests the server saw
	}{
		{"GET recovers", http.MethodGet, nil, "", []int{503, 502, 200}, 200, 3},
		{"GET gives up after MaxRetries", http.MethodGet, nil, "", []int{504}, 504, 4},
		{"GET 500 is not retried", http.MethodGet, nil, "", []int{500, 200}, 500, 1},
		{"GET 404 is not retried", http.MethodGet, nil, "", []int{404, 200}, 404, 1},
		{"429 is retried", http.MethodPut, nil, "", []int{429, 200}, 200, 2},
		{"POST without key", http.MethodPost, strings.NewReader("order"), "", []int{503, 200}, 503, 1},
		{"POST with key", http.MethodPost, strings.NewReader("order"), "k-1", []int{503, 503, 200}, 200, 3},
		{"POST with key, unreplayable body", http.MethodPost, io.MultiReader(strings.NewReader("order")), "k-2", []int{503, 200}, 503, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.statuses...)
			var waits []time.Duration
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			c := NewClient(base, testClientConfig(&waits))
			req, _ := http.NewRequest(tc.method, srv.URL, tc.body)
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			res, err := do(t, c, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.want || srv.hits.Load() != tc.hits {
				t.Fatalf("status %d after %d hits, want %d after %d", res.StatusCode, srv.hits.Load(), tc.want, tc.hits)
			}
			if tc.body != nil {
				for range tc.hits {
					if b := <-srv.bodies; b != "order" {
						t.Fatalf("attempt sent body %q", b)
					}
				}
			}
			// Full jitter at its largest: base·2ⁿ.
			for n, w := range waits {
				if want := 10 * time.Millisecond << n; w != want {
					t.Fatalf("wait %d = %v, want %v", n, w, want)
				}
			}
		})
	}
}

func TestClientHonoursRetryAfter(t *testing.T) {
	verifyNoLeaks(t)
	cases := []struct {
		name, retryAfter string
		status           int
		hits             int64
		wait             time.Duration
	}{
		{"seconds", "1", 503, 2, time.Second},
		{"HTTP-date", "Tue, 14 Nov 2023 22:13:21 GMT", 429, 2, time.Second}, // 1 s after the frozen now
		{"longer than BackoffMax", "60", 503, 1, 0},
		{"ignored on 502", "60", 502, 2, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.status, 200)
			srv.retryAfter = tc.retryAfter
			var waits []time.Duration
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if _, err := do(t, NewClient(base, testClientConfig(&waits)), req); err != nil {
				t.Fatal(err)
			}
			if srv.hits.Load() != tc.hits {
				t.Fatalf("%d hits, want %d", srv.hits.Load(), tc.hits)
			}
			if tc.wait > 0 && (len(waits) != 1 || waits[0] != tc.wait) {
				t.Fatalf("waits %v, want [%v]", waits, tc.wait)
			}
		})
	}
}

func TestClientRetryBudget(t *testing.T) {
	verifyNoLeaks(t)
	srv := newScripted(t, 503)
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.MaxRetries = 5
	cfg.MinRetriesPerSecond = 2 // the frozen clock never adds more
	cfg.RetryBudget = 0.1
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	c := NewClient(base, cfg)
	get := func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if _, err := do(t, c, req); err != nil {
			t.Fatal(err)
		}
	}
	get() // 2 tokens + 0.1: two retries
	if srv.hits.Load() != 3 {
		t.Fatalf("first call: %d hits, want 3", srv.hits.Load())
	}
	get() // 0.2 tokens: none
	if srv.hits.Load() != 4 {
		t.Fatalf("second call: %d hits in all, want 4", srv.hits.Load())
	}
}

func TestClientBreaker(t *testing.T) {
	verifyNoLeaks(t)
	srv := newScripted(t, 404, 404, 404, 500)
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.MaxRetries = 0
	cfg.Breaker = BreakerSettings{FailureRatio: 0.5, MinRequests: 4, OpenTimeout: time.Hour}
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	c := NewClient(base, cfg)
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		_, err := do(t, c, req)
		return err
	}
	for i := range 6 { // 3×404, then 500s: 3 of 6 failed
		if err := get(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if err := get(); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v, want ErrCircuitOpen", err)
	}
	if srv.hits.Load() != 6 {
		t.Fatalf("%d hits, want 6: the open breaker let a call through", srv.hits.Load())
	}
}

func TestClientBreakerDisabled(t *testing.T) {
	verifyNoLeaks(t)
	srv := newScripted(t, 500, 500, 500, 500, 500, 500, 500, 500)
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.MaxRetries = 0
	cfg.Breaker = BreakerSettings{FailureRatio: 0.5, MinRequests: 2, OpenTimeout: time.Hour}
	cfg.DisableBreaker = true
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	c := NewClient(base, cfg)
	for i := range 8 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if _, err := do(t, c, req); err != nil {
			t.Fatalf("call %d with the breaker off: %v", i, err)
		}
	}
	if srv.hits.Load() != 8 {
		t.Fatalf("%d hits, want 8", srv.hits.Load())
	}
}

func TestClientBulkhead(t *testing.T) {
	verifyNoLeaks(t)
	srv := newScripted(t, 200)
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.MaxConcurrentPerHost = 1
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	rt := NewTransport(base, cfg)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	held, err := rt.RoundTrip(req) // holds the slot until its body is closed
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rt.RoundTrip(req.WithContext(ctx)); !errors.Is(err, ErrBulkheadFull) {
		t.Fatalf("err = %v, want ErrBulkheadFull", err)
	}
	_ = held.Body.Close()
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = res.Body.Close()
}

func TestClientAttemptTimeout(t *testing.T) {
	verifyNoLeaks(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.MaxRetries = 1
	cfg.Timeout = 10 * time.Millisecond
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := do(t, NewClient(base, cfg), req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d attempts, want 2", hits.Load())
	}
}

func TestClientStopsWhenCallerGivesUp(t *testing.T) {
	verifyNoLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		cancel()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var waits []time.Duration
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, bytes.NewReader(nil))
	_, _ = do(t, NewClient(base, testClientConfig(&waits)), req)
	if hits.Load() != 1 {
		t.Fatalf("%d attempts after the caller gave up, want 1", hits.Load())
	}
}

// TestClientZeroMeansNone checks that zero counts mean what zero keys do:
// no retries, and with neither a budget share nor a floor, no allowance
// for any.
func TestClientZeroMeansNone(t *testing.T) {
	verifyNoLeaks(t)
	for name, edit := range map[string]func(*ClientConfig){
		"MaxRetries":  func(c *ClientConfig) { c.MaxRetries = 0 },
		"RetryBudget": func(c *ClientConfig) { c.RetryBudget, c.MinRetriesPerSecond = 0, 0 },
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, 503, 200)
			var waits []time.Duration
			cfg := testClientConfig(&waits)
			edit(&cfg)
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			res, err := do(t, NewClient(base, cfg), req)
			if err != nil || res.StatusCode != http.StatusServiceUnavailable || srv.hits.Load() != 1 {
				t.Errorf("got %v after %d hits (err %v), want the 503 after 1", res.StatusCode, srv.hits.Load(), err)
			}
		})
	}
}
