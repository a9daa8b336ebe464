package resilience

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/internal/redistest"
)

// callCounter is a go-redis hook counting the commands sent, which is how
// the leasing tests measure Redis round trips per request.
type callCounter struct{ n atomic.Int64 }

func (c *callCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestRedisStoreAllow(t *testing.T) {
	srv := redistest.Start(t)
	s := NewRedisStore(srv.Client(t), "test:")
	ctx := context.Background()
	l := Limit{Rate: 1, Period: time.Hour, Burst: 3}
	for i, want := range []struct {
		allowed   bool
		remaining int
	}{{true, 2}, {true, 1}, {true, 0}, {false, 0}} {
		res, err := s.Allow(ctx, "ip:a", l, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed != want.allowed || res.Remaining != want.remaining {
			t.Fatalf("request %d: %+v, want allowed=%v remaining=%d", i, res, want.allowed, want.remaining)
		}
		if !res.Allowed && (res.RetryAfter <= 0 || res.RetryAfter > time.Hour) {
			t.Fatalf("refusal's RetryAfter = %s, want within one interval", res.RetryAfter)
		}
	}
	if _, err := s.Allow(ctx, "ip:a", Limit{}, 1); err == nil {
		t.Fatal("zero limit sent to Redis")
	}
}

// TestRedisStoreSharedAcrossInstances: two stores (two instances' clients)
// over one Redis admit the burst once for a key, not once each.
func TestRedisStoreSharedAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	a, b := NewRedisStore(srv.Client(t), "svc:"), NewRedisStore(srv.Client(t), "svc:")
	l := Limit{Rate: 20, Period: time.Hour} // no refill during the test
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for _, s := range []*RedisStore{a, b, a, b} {
		wg.Go(func() {
			for range 30 {
				res, err := s.Allow(context.Background(), "user:alice", l, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 20 {
		t.Fatalf("two instances admitted %d, want the shared burst of 20", got)
	}
}

func TestRedisStoreError(t *testing.T) {
	srv := redistest.Start(t)
	s := NewRedisStore(srv.Client(t), "")
	srv.Kill()
	if _, err := s.Allow(context.Background(), "k", PerSecond(1), 1); err == nil {
		t.Fatal("no error from a dead Redis")
	}
}
