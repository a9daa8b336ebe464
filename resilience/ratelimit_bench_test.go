package resilience

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/redistest"
)

// BenchmarkMemoryStoreAllow is one local decision on a warm key.
func BenchmarkMemoryStoreAllow(b *testing.B) {
	s := NewMemoryStore(0)
	ctx, l := context.Background(), PerSecond(1_000_000_000)
	b.ReportAllocs()
	for b.Loop() {
		s.Allow(ctx, "user:alice", l, 1)
	}
}

// BenchmarkMemoryStoreAllowParallel spreads decisions over 1024 keys from
// every core, which is what the sharding is for.
func BenchmarkMemoryStoreAllowParallel(b *testing.B) {
	s := NewMemoryStore(0)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("ip:10.0.", i/256, ".", i%256)
	}
	ctx, l := context.Background(), PerSecond(1_000_000_000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Allow(ctx, keys[i%len(keys)], l, 1)
			i++
		}
	})
}

// benchStore runs sequential decisions on one key, reporting the p50 and
// p99 latency and the Redis calls per decision.
func benchStore(b *testing.B, s Store, calls *callCounter) {
	ctx, l := context.Background(), PerSecond(1_000_000)
	s.Allow(ctx, "route:GET /bench", l, 1) // dial, load the script
	calls.n.Store(0)
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := s.Allow(ctx, "route:GET /bench", l, 1); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(calls.n.Load())/float64(b.N), "redis-calls/op")
}

// BenchmarkRedisStoreAllow is one decision: one round trip to a loopback
// redis-server.
func BenchmarkRedisStoreAllow(b *testing.B) {
	srv := redistest.Start(b)
	c, calls := srv.Client(b), &callCounter{}
	c.AddHook(calls)
	benchStore(b, NewRedisStore(c, "bench:"), calls)
}

// BenchmarkLeasingStoreAllow is one decision with leases of 20.
func BenchmarkLeasingStoreAllow(b *testing.B) {
	srv := redistest.Start(b)
	c, calls := srv.Client(b), &callCounter{}
	c.AddHook(calls)
	benchStore(b, NewLeasingStore(NewRedisStore(c, "bench:"), DefaultLeaseSize, 0), calls)
}
