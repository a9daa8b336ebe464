package resilience

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/internal/redistest"
)

// countedClient returns a client of srv whose commands are counted.
func countedClient(t *testing.T, srv *redistest.Server) (*redis.Client, *callCounter) {
	t.Helper()
	c, calls := srv.Client(t), &callCounter{}
	c.AddHook(calls)
	return c, calls
}

// TestLeasingCutsRedisCalls: the same 1000 admitted requests cost a
// RedisStore 1000 round trips and a LeasingStore at least 10× fewer.
func TestLeasingCutsRedisCalls(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	l := Limit{Rate: 100_000, Period: time.Hour}
	const requests = 1000
	run := func(s Store) int {
		admitted := 0
		for range requests {
			res, err := s.Allow(ctx, "route:GET /hot", l, 1)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed {
				admitted++
			}
		}
		return admitted
	}
	plainClient, plainCalls := countedClient(t, srv)
	if n := run(NewRedisStore(plainClient, "plain:")); n != requests {
		t.Fatalf("redis store admitted %d of %d", n, requests)
	}
	leaseClient, leaseCalls := countedClient(t, srv)
	if n := run(NewLeasingStore(NewRedisStore(leaseClient, "lease:"), 20, 0)); n != requests {
		t.Fatalf("leasing store admitted %d of %d", n, requests)
	}
	plain, leased := plainCalls.n.Load(), leaseCalls.n.Load()
	t.Logf("redis calls for %d requests: %d plain, %d leased (lease 20)", requests, plain, leased)
	if plain < requests || leased*10 > plain {
		t.Fatalf("leasing made %d calls against %d: not a 10× cut", leased, plain)
	}
}

// TestLeasingCachesRefusals: once Redis refuses, the instance refuses
// locally until the Retry-After, without asking again.
func TestLeasingCachesRefusals(t *testing.T) {
	srv := redistest.Start(t)
	client, calls := countedClient(t, srv)
	s := NewLeasingStore(NewRedisStore(client, ""), 5, 0)
	l := Limit{Rate: 10, Period: time.Hour} // refills one token per 6 minutes
	admitted := 0
	for i := range 200 {
		if i == 1 { // the first call also dialled and loaded the script
			calls.n.Store(0)
		}
		res, err := s.Allow(context.Background(), "ip:1.2.3.4", l, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			admitted++
		} else if res.RetryAfter <= 0 {
			t.Fatalf("refusal without Retry-After: %+v", res)
		}
	}
	if admitted != 10 {
		t.Fatalf("admitted %d, want the burst of 10", admitted)
	}
	// After the first lease: one more lease of 5, then one refusal.
	if n := calls.n.Load(); n != 2 {
		t.Fatalf("%d Redis calls for 199 requests after the first lease, want 2", n)
	}
}

// TestLeasingOverAdmissionBound measures the worst case the LeasingStore
// documentation derives, with 2 and 4 instances sharing one redis-server:
// every instance leases a batch, the shared bucket refills completely, and
// then all instances spend their leases and the fresh burst at once. In
// that short window the fleet admits more than a RedisStore would — but
// never more than instances × leaseSize beyond it.
func TestLeasingOverAdmissionBound(t *testing.T) {
	srv := redistest.Start(t)
	const leaseSize = 10
	l := Limit{Rate: 100, Period: time.Second} // interval 10 ms, burst 100
	for _, instances := range []int{2, 4} {
		t.Run(fmt.Sprint(instances, " instances"), func(t *testing.T) {
			key := fmt.Sprint("route:GET /x/", instances)
			stores := make([]Store, instances)
			for i := range stores {
				stores[i] = NewLeasingStore(NewRedisStore(srv.Client(t), "over:"), leaseSize, 0)
			}
			admitted, elapsed := worstCaseWindow(t, stores, key, l, instances*leaseSize)
			refill := int(elapsed/l.interval()) + 1
			gcraMax := l.burst() + refill
			over := admitted - gcraMax
			t.Logf("%d instances, lease %d: window of %s admitted %d; GCRA allows %d (burst %d + refill %d): over-admission %d, bound %d",
				instances, leaseSize, elapsed.Round(time.Millisecond), admitted, gcraMax, l.burst(), refill, max(over, 0), instances*leaseSize)
			if over > instances*leaseSize {
				t.Fatalf("over-admitted %d, beyond the bound of %d", over, instances*leaseSize)
			}
		})
	}
}

// worstCaseWindow primes each store with one request (so each holds a
// lease), waits until Redis has refilled what the leases took, and then lets
// every store admit until its first refusal, concurrently. It returns the
// requests admitted in that last phase and how long it took.
func worstCaseWindow(t *testing.T, stores []Store, key string, l Limit, leased int) (int, time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, s := range stores {
		if res, err := s.Allow(ctx, key, l, 1); err != nil || !res.Allowed {
			t.Fatalf("priming: %+v, %v", res, err)
		}
	}
	// Well under the lease lifetime (one Period), so the leases survive.
	time.Sleep(time.Duration(leased+5) * l.interval())
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range stores {
		wg.Go(func() {
			for {
				res, err := s.Allow(ctx, key, l, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if !res.Allowed {
					return
				}
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	return int(admitted.Load()), time.Since(start)
}

// TestRedisStoreWorstCaseWindow runs the same scenario against plain
// RedisStores: without leases nothing is time-shifted, so the window admits
// no more than GCRA allows.
func TestRedisStoreWorstCaseWindow(t *testing.T) {
	srv := redistest.Start(t)
	l := Limit{Rate: 100, Period: time.Second}
	stores := []Store{NewRedisStore(srv.Client(t), ""), NewRedisStore(srv.Client(t), "")}
	admitted, elapsed := worstCaseWindow(t, stores, "route:GET /y", l, 2)
	if gcraMax := l.burst() + int(elapsed/l.interval()) + 1; admitted > gcraMax {
		t.Fatalf("admitted %d in %s, GCRA allows %d", admitted, elapsed, gcraMax)
	}
}
