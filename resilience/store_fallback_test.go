package resilience

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/redistest"
)

// switchStore is a store whose backend the test takes down and brings back.
type switchStore struct {
	down  atomic.Bool
	inner Store
	calls atomic.Int64
}

func (s *switchStore) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return Result{}, errors.New("dial tcp: connection refused")
	}
	return s.inner.Allow(ctx, key, l, n)
}
func (s *switchStore) Name() string { return "redis" }

func TestFallbackPolicies(t *testing.T) {
	l := Limit{Rate: 4, Period: time.Hour}
	tests := []struct {
		policy    FailurePolicy
		instances int
		want      []bool
	}{
		{PolicyFallback, 2, []bool{true, true, false}}, // 4 / 2 instances
		{PolicyFallback, 3, []bool{true, true, false}}, // ⌈4 / 3⌉
		{PolicyFallback, 0, []bool{true, true, true, true, false}},
		{PolicyAllow, 2, []bool{true, true, true, true, true, true}},
		{PolicyDeny, 2, []bool{false}},
	}
	for _, tt := range tests {
		primary := &switchStore{inner: NewMemoryStore(10)}
		primary.down.Store(true)
		f := NewFallbackStore(primary, FallbackConfig{Policy: tt.policy, ExpectedInstances: tt.instances,
			ProbeInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		for i, want := range tt.want {
			res, err := f.Allow(context.Background(), "ip:a", l, 1)
			if err != nil {
				t.Fatalf("%s/%d: request %d: %v", tt.policy, tt.instances, i, err)
			}
			if res.Allowed != want {
				t.Fatalf("%s/%d: request %d allowed=%v, want %v", tt.policy, tt.instances, i, res.Allowed, want)
			}
			if !res.Allowed && res.RetryAfter <= 0 {
				t.Fatalf("%s: refusal without RetryAfter", tt.policy)
			}
		}
		if !errors.Is(f.HealthCheck(context.Background()), ErrDegraded) {
			t.Fatalf("%s: health check passes while degraded", tt.policy)
		}
	}
	if err := FailurePolicy("sometimes").Validate(); err == nil {
		t.Fatal("unknown policy accepted")
	}
}

func TestFallbackRecoversAndLogsBounded(t *testing.T) {
	var logs bytes.Buffer
	primary := &switchStore{inner: NewMemoryStore(10)}
	f := NewFallbackStore(primary, FallbackConfig{ProbeInterval: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	l := PerSecond(1000)
	primary.down.Store(true)
	for range 100 {
		if _, err := f.Allow(ctx, "k", l, 1); err != nil {
			t.Fatal(err)
		}
	}
	if !f.Degraded() || f.Name() != "memory" {
		t.Fatalf("after failures: degraded=%v name=%s", f.Degraded(), f.Name())
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("100 failures logged %d warnings, want 1:\n%s", n, logs.String())
	}
	// A cancelled request is the client's failure, not the store's.
	primary.down.Store(false)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	time.Sleep(2 * time.Millisecond) // let a probe fall due
	deadline := time.Now().Add(5 * time.Second)
	for f.Degraded() && time.Now().Before(deadline) {
		f.Allow(ctx, "k", l, 1)
		time.Sleep(time.Millisecond)
	}
	if f.Degraded() || f.Name() != "redis" || f.HealthCheck(ctx) != nil {
		t.Fatal("did not recover after the primary came back")
	}
	if !strings.Contains(logs.String(), "recovered") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
	failing := &switchStore{}
	failing.down.Store(true)
	g := NewFallbackStore(failing, FallbackConfig{Logger: slog.New(slog.DiscardHandler)})
	if _, err := g.Allow(cancelled, "k", l, 1); err == nil || g.Degraded() {
		t.Fatalf("cancelled context: err=%v degraded=%v, want an error and no degradation", err, g.Degraded())
	}
}

// TestFallbackFollowsAvailable: with the primary's breaker open the
// primary is not asked (beyond a due probe), and once it closes the next
// call asks it, however far the next probe is.
func TestFallbackFollowsAvailable(t *testing.T) {
	var available atomic.Bool
	primary := &switchStore{inner: NewMemoryStore(10)}
	f := NewFallbackStore(primary, FallbackConfig{ProbeInterval: time.Hour, Available: available.Load,
		Logger: slog.New(slog.DiscardHandler)})
	ctx, l := context.Background(), PerSecond(1000)
	available.Store(true)
	primary.down.Store(true)
	for range 3 { // the breaker has not opened yet: each call asks
		if _, err := f.Allow(ctx, "k", l, 1); err != nil {
			t.Fatal(err)
		}
	}
	if !f.Degraded() || primary.calls.Load() != 3 {
		t.Fatalf("degraded=%v after %d primary calls, want degraded after 3", f.Degraded(), primary.calls.Load())
	}
	available.Store(false)
	for range 100 {
		if _, err := f.Allow(ctx, "k", l, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := primary.calls.Load(); n != 3 {
		t.Fatalf("the primary was asked %d more times with its breaker open", n-3)
	}
	primary.down.Store(false)
	available.Store(true)
	if _, err := f.Allow(ctx, "k", l, 1); err != nil || f.Degraded() || f.HealthCheck(ctx) != nil {
		t.Fatalf("breaker closed: err=%v degraded=%v, want the primary deciding again at once", err, f.Degraded())
	}
}

// TestTwoInstancesShareRedis runs two HTTP instances over one redis-server:
// together they admit the key's limit once (±1), not once each.
func TestTwoInstancesShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	cfg := func() RateLimitConfig {
		return RateLimitConfig{Store: NewFallbackStore(NewRedisStore(srv.Client(t), "svc:"),
			FallbackConfig{ExpectedInstances: 2}), Anonymous: Limit{Rate: 30, Period: time.Hour}}
	}
	a, b := newLimitedServer(cfg()), newLimitedServer(cfg())
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for _, e := range []http.Handler{a, b, a, b} {
		wg.Go(func() {
			for range 25 {
				if (request{path: "/a", ip: "10.0.0.1"}).do(e).Code == 200 {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got < 29 || got > 31 {
		t.Fatalf("two instances admitted %d, want 30 ± 1", got)
	}
}

// TestRedisKilledMidLoad kills Redis under load: no request fails with a
// 5xx, the store degrades to the local limiter (health check failing, to be
// shown as "warn"), and after a restart it returns to Redis by itself.
func TestRedisKilledMidLoad(t *testing.T) {
	srv := redistest.Start(t)
	store := NewFallbackStore(NewRedisStore(srv.Client(t), "svc:"), FallbackConfig{
		ExpectedInstances: 2, ProbeInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	e := newLimitedServer(RateLimitConfig{Store: store, Anonymous: Limit{Rate: 100_000, Period: time.Second}})
	ctx := context.Background()
	stop := make(chan struct{})
	var fivexx, total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code := (request{path: "/a", ip: "10.0.0.1"}).do(e).Code; code >= 500 {
					fivexx.Add(1)
				}
				total.Add(1)
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("traffic", func() bool { return total.Load() > 50 })
	srv.Kill()
	waitFor("degraded mode", store.Degraded)
	if err := store.HealthCheck(ctx); !errors.Is(err, ErrDegraded) {
		t.Errorf("health check while Redis is down: %v", err)
	}
	served := total.Load()
	waitFor("traffic while degraded", func() bool { return total.Load() > served+50 })
	srv.Restart()
	waitFor("recovery", func() bool { return !store.Degraded() })
	close(stop)
	wg.Wait()
	if n := fivexx.Load(); n != 0 {
		t.Fatalf("%d of %d requests got a 5xx", n, total.Load())
	}
	if err := store.HealthCheck(ctx); err != nil {
		t.Fatalf("health check after recovery: %v", err)
	}
}
