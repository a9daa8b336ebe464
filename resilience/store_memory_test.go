package resilience

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock replaces a store's clock with one the test moves.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() int64              { return c.ns.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestMemoryStoreAllow(t *testing.T) {
	s := NewMemoryStore(100)
	var clock fakeClock
	s.clock = clock.now
	ctx := context.Background()
	l := Limit{Rate: 1, Period: time.Second, Burst: 2}
	for i, want := range []bool{true, true, false} {
		res, err := s.Allow(ctx, "ip:a", l, 1)
		if err != nil || res.Allowed != want {
			t.Fatalf("request %d: allowed=%v err=%v, want %v", i, res.Allowed, err, want)
		}
	}
	if res, _ := s.Allow(ctx, "ip:b", l, 1); !res.Allowed {
		t.Fatal("another key shares the first key's budget")
	}
	clock.advance(time.Second)
	if res, _ := s.Allow(ctx, "ip:a", l, 1); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("after one interval: %+v, want allowed with 0 remaining", res)
	}
}

func TestMemoryStoreRejectsBadRequests(t *testing.T) {
	s := NewMemoryStore(10)
	ctx := context.Background()
	if _, err := s.Allow(ctx, "k", Limit{}, 1); err == nil {
		t.Error("zero limit accepted")
	}
	for _, n := range []int{0, -1, 4} {
		if _, err := s.Allow(ctx, "k", Limit{Rate: 3, Period: time.Second}, n); !errors.Is(err, ErrCost) {
			t.Errorf("cost %d: err = %v, want ErrCost", n, err)
		}
	}
}

// TestMemoryStoreConcurrent hammers a few keys from many goroutines; under
// -race it checks the sharded locking, and the count checks that no
// decision was lost: with no time passing, exactly the burst is admitted.
func TestMemoryStoreConcurrent(t *testing.T) {
	s := NewMemoryStore(1000)
	var clock fakeClock
	s.clock = clock.now
	l := Limit{Rate: 50, Period: time.Hour}
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 100 {
				k := (g + i) % len(allowed)
				if res, _ := s.Allow(context.Background(), fmt.Sprint("k", k), l, 1); res.Allowed {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if got := allowed[k].Load(); got != 50 {
			t.Errorf("key %d admitted %d, want the burst of 50", k, got)
		}
	}
}

func TestMemoryStoreBounded(t *testing.T) {
	const maxKeys = 640
	s := NewMemoryStore(maxKeys)
	var clock fakeClock
	s.clock = clock.now
	l := PerMinute(10)
	for i := range 10 * maxKeys {
		if _, err := s.Allow(context.Background(), fmt.Sprint("ip:", i), l, 1); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			clock.advance(time.Millisecond)
		}
	}
	if n := s.Len(); n > maxKeys {
		t.Fatalf("holds %d keys, bound is %d", n, maxKeys)
	}
}

// TestMemoryStoreEvictsIdleFirst fills the store with keys of which half
// are idle, then adds new keys: only idle keys may make room, so every
// active key keeps its debt.
func TestMemoryStoreEvictsIdleFirst(t *testing.T) {
	const maxKeys = 8 // one shard, so the test controls which keys compete
	s := NewMemoryStore(maxKeys)
	var clock fakeClock
	s.clock = clock.now
	ctx := context.Background()
	short := Limit{Rate: 1, Period: time.Second} // idle 1 s after use
	long := Limit{Rate: 1, Period: time.Hour}    // busy for an hour after use
	for i := range maxKeys / 2 {
		s.Allow(ctx, fmt.Sprint("idle", i), short, 1)
		s.Allow(ctx, fmt.Sprint("busy", i), long, 1)
	}
	clock.advance(2 * time.Second) // the short keys are idle now
	for i := range maxKeys / 2 {
		s.Allow(ctx, fmt.Sprint("new", i), long, 1)
	}
	for i := range maxKeys / 2 {
		if res, _ := s.Allow(ctx, fmt.Sprint("busy", i), long, 1); res.Allowed {
			t.Errorf("busy%d was evicted (and given a fresh burst) while idle keys were stored", i)
		}
	}
	if n := s.Len(); n > maxKeys {
		t.Fatalf("holds %d keys, bound is %d", n, maxKeys)
	}
}

// TestMemoryStoreAllowDoesNotAllocate pins the benchmark's 0 allocs/op.
func TestMemoryStoreAllowDoesNotAllocate(t *testing.T) {
	s := NewMemoryStore(0)
	ctx, l := context.Background(), PerSecond(1_000_000)
	s.Allow(ctx, "user:alice", l, 1)
	if n := testing.AllocsPerRun(100, func() { s.Allow(ctx, "user:alice", l, 1) }); n != 0 {
		t.Fatalf("a decision on a stored key allocates %v times, want 0", n)
	}
}
