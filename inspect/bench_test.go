package inspect

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/troupehq/troupe/internal/cputime"
)

// modes are the configurations the benchmarks compare: the inspector off
// (no observer: the baseline) and each mode with its rate.
var modes = []Mode{Off, Production, Analysis, Development}

// BenchmarkRequestModes is an actor request/response from outside the
// System under each mode: the path every traced message takes (wrap,
// clock reads, one record).
func BenchmarkRequestModes(b *testing.B) {
	for _, m := range modes {
		b.Run(string(m), func(b *testing.B) {
			c := DefaultConfig()
			c.Mode = m
			_, s := testSystem(b, c, Options{})
			ref, _ := s.SpawnActor("echo", echoActor{})
			ctx := context.Background()
			warmUp(func() { _, _ = s.Request(ctx, ref, "hi") })
			b.ReportAllocs()
			cpu := cputime.Used()
			for b.Loop() {
				if _, err := s.Request(ctx, ref, "hi"); err != nil {
					b.Fatal(err)
				}
			}
			cputime.PerOp(b, cpu)
		})
	}
}

// BenchmarkNestedRequest is a request to an actor that requests another
// before answering — the path the cycle detector watches — in production
// mode with and without cycle detection, and with the inspector off.
func BenchmarkNestedRequest(b *testing.B) {
	for _, bc := range []struct {
		name   string
		mode   Mode
		cycles bool
	}{{"off", Off, false}, {"production", Production, false}, {"production+cycles", Production, true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := DefaultConfig()
			c.Mode, c.DetectCycles = bc.mode, bc.cycles
			_, s := testSystem(b, c, Options{})
			inner, _ := s.SpawnActor("inner", echoActor{})
			outer, _ := s.Spawn("outer", echo)
			ctx := context.Background()
			route := relay{inner}
			warmUp(func() { _, _ = s.Request(ctx, outer, route) })
			b.ReportAllocs()
			cpu := cputime.Used()
			for b.Loop() {
				if _, err := s.Request(ctx, outer, route); err != nil {
					b.Fatal(err)
				}
			}
			cputime.PerOp(b, cpu)
		})
	}
}

// warmUp runs op until the inspector's buffers have reached their steady
// size (the event ring full at 10,000 events in development mode, the
// staging buffers made), so the timed loop measures the steady state.
func warmUp(op func()) {
	for range 30_000 {
		op()
	}
}

// BenchmarkMemoryAtMaxEvents fills the event buffer and reports what the
// inspector says it holds (bytes) and what the heap grew by (heap-bytes).
func BenchmarkMemoryAtMaxEvents(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				c := DefaultConfig()
				c.Mode, c.MaxEvents = Development, n
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				i, s := testSystem(b, c, Options{})
				ref, _ := s.SpawnActor("echo", echoActor{})
				// The recorder drops what its staging buffer cannot take
				// (counted in Stats.Dropped), so send until the ring is full.
				for sent := 0; i.Stats().Events < n; sent++ {
					if sent > 10*n {
						b.Fatalf("ring holds %d events after %d requests: %+v", i.Stats().Events, sent, i.Stats())
					}
					_, _ = s.Request(context.Background(), ref, "hi")
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				st := i.Stats()
				b.ReportMetric(float64(st.Bytes), "bytes")
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "heap-bytes")
				b.ReportMetric(float64(st.Events), "events")
			}
		})
	}
}
