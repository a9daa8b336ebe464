package redisguard

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/internal/redistest"
	"github.com/troupehq/troupe/internal/syncbuf"
)

const (
	budget   = 50 * time.Millisecond
	interval = 200 * time.Millisecond
	// slack absorbs a loaded CI machine; go-redis's defaults miss every
	// bound below by seconds.
	slack = 400 * time.Millisecond
)

// guarded starts a redis-server and a guarded client for it, with query
// appended to its URL.
func guarded(t *testing.T, query string) (*redistest.Server, *redis.Client, *Guard, *syncbuf.Buffer) {
	t.Helper()
	srv := redistest.Start(t)
	logs := &syncbuf.Buffer{}
	client, g, err := NewClient(srv.URL()+query, Config{Timeout: budget, ProbeInterval: interval, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(); _ = client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return srv, client, g, logs
}

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// waitFor polls cond for up to 10 s and returns how long it took to hold.
func waitFor(t *testing.T, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 10*time.Second {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// TestFrozenRedis: each command waits at most the budget, three failures
// open the guard, commands then fail at once, and a probe closes it within
// an interval of the thaw.
func TestFrozenRedis(t *testing.T) {
	srv, client, g, logs := guarded(t, "")
	ctx := context.Background()
	srv.Freeze()
	t.Cleanup(srv.Thaw)
	for i := range openAfter {
		var err error
		if took := timed(func() { err = client.Get(ctx, "k").Err() }); err == nil || took > budget+slack {
			t.Fatalf("command %d to a frozen Redis: %v after %v, want an error within the budget %v", i, err, took, budget)
		}
		if open := !g.Available(); open != (i == openAfter-1) {
			t.Fatalf("after %d failures the guard is open=%v", i+1, open)
		}
	}
	var err error
	if took := timed(func() { err = client.Set(ctx, "k", "v", 0).Err() }); !errors.Is(err, ErrUnavailable) || took > budget/2 {
		t.Fatalf("command with the guard open: %v after %v, want ErrUnavailable at once", err, took)
	}
	if err := g.HealthCheck(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("HealthCheck while open = %v", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "failing fast") {
		t.Errorf("opening not logged: %s", logs.String())
	}

	time.Sleep(interval) // probes keep failing while frozen
	if g.Available() {
		t.Fatal("a probe closed the guard while Redis was frozen")
	}
	srv.Thaw()
	if took := waitFor(t, g.Available); took > interval+slack {
		t.Errorf("closed %v after the thaw, want within a probe interval (%v)", took, interval)
	}
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil || g.HealthCheck(ctx) != nil {
		t.Fatalf("after recovery: %v, health %v", err, g.HealthCheck(ctx))
	}
	if !strings.Contains(logs.String(), "redis answering again") {
		t.Errorf("closing not logged: %s", logs.String())
	}
}

// TestKilledRedis: refused connections open the guard at once (no dial
// retries), and a restarted Redis closes it.
func TestKilledRedis(t *testing.T) {
	srv, client, g, _ := guarded(t, "")
	ctx := context.Background()
	srv.Kill()
	for range openAfter {
		if took := timed(func() { _ = client.Get(ctx, "k").Err() }); took > budget+slack {
			t.Fatalf("a command to a killed Redis took %v", took)
		}
	}
	if g.Available() {
		t.Fatal("guard closed after three refused commands")
	}
	srv.Restart()
	waitFor(t, g.Available)
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestAnswersKeepTheGuardClosed: error replies are answers, and a caller
// that gives up says nothing about Redis.
func TestAnswersKeepTheGuardClosed(t *testing.T) {
	srv, client, g, _ := guarded(t, "")
	ctx := context.Background()
	if err := client.LPush(ctx, "list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 * openAfter {
		if err := client.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GET missing = %v", err)
		}
		if err := client.Get(ctx, "list").Err(); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Fatalf("GET on a list = %v", err)
		}
	}
	srv.Freeze()
	t.Cleanup(srv.Thaw)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	short, cancelShort := context.WithTimeout(ctx, budget/5)
	defer cancelShort()
	for range 2 * openAfter {
		_ = client.Get(cancelled, "k").Err()
		_ = client.Get(short, "k").Err()
	}
	if !g.Available() {
		t.Fatal("error replies or callers giving up opened the guard")
	}
}

// TestBudgetOverridesURL: timeouts and retries in the URL's query do not
// loosen the budget.
func TestBudgetOverridesURL(t *testing.T) {
	srv, client, _, _ := guarded(t, "?read_timeout=10s&write_timeout=10s&pool_timeout=10s&max_retries=5&dial_timeout=10s")
	srv.Freeze()
	t.Cleanup(srv.Thaw)
	if took := timed(func() { _ = client.Get(context.Background(), "k").Err() }); took > budget+slack {
		t.Fatalf("GET took %v with a %v budget and read_timeout=10s in the URL", took, budget)
	}
	if _, _, err := NewClient(srv.URL(), Config{Timeout: 0, ProbeInterval: interval}); err == nil {
		t.Error("a zero budget was accepted")
	}
	if _, _, err := NewClient("http://x", Config{Timeout: budget, ProbeInterval: interval}); err == nil {
		t.Error("a non-Redis URL was accepted")
	}
}

// TestPipelineAndPool: a pipeline gets one budget, and commands queued for
// a pooled connection wait at most the budget too.
func TestPipelineAndPool(t *testing.T) {
	srv, client, _, _ := guarded(t, "")
	ctx := context.Background()
	srv.Freeze()
	t.Cleanup(srv.Thaw)
	took := timed(func() {
		_, _ = client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range 10 {
				p.Incr(ctx, "n")
			}
			return nil
		})
	})
	if took > budget+slack {
		t.Fatalf("a pipeline to a frozen Redis took %v", took)
	}
	// More callers than pooled connections (10 per CPU): the rest queue.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var worst time.Duration
	for range 100 {
		wg.Go(func() {
			d := timed(func() { _ = client.Get(ctx, "k").Err() })
			mu.Lock()
			worst = max(worst, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	if worst > budget+slack {
		t.Fatalf("with 100 callers the slowest waited %v", worst)
	}
}

// TestCloseStopsTheProbe: after Close no probe runs, so a closed guard
// stays as it was.
func TestCloseStopsTheProbe(t *testing.T) {
	srv, client, g, logs := guarded(t, "")
	srv.Kill()
	for range openAfter {
		_ = client.Get(context.Background(), "k").Err()
	}
	if took := timed(g.Close); took > budget+slack {
		t.Fatalf("Close took %v", took)
	}
	g.Close() // twice is harmless
	srv.Restart()
	time.Sleep(2 * interval)
	if g.Available() || bytes.Contains(logs.Bytes(), []byte("answering again")) {
		t.Fatal("a probe ran after Close")
	}
}

// TestGoRedisNoticesGoToTheServiceLog checks that go-redis's own notices
// (here a failed dial) reach the guard's logger at DEBUG rather than
// standard error.
func TestGoRedisNoticesGoToTheServiceLog(t *testing.T) {
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: every dial fails
	client, guard, err := NewClient("redis://"+addr, Config{Timeout: 50 * time.Millisecond, ProbeInterval: time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { guard.Close(); _ = client.Close() }()
	_ = client.Ping(context.Background()).Err()
	if !strings.Contains(logs.String(), `"msg":"redis client notice"`) || !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Errorf("go-redis's notice did not reach the service log:\n%s", logs.String())
	}
}
