package inspect

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
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
			i, s := testSystem(b, c, Options{})
			ref, _ := s.SpawnActor("echo", echoActor{})
			ctx := context.Background()
			warmUp(i, func() { _, _ = s.Request(ctx, ref, "hi") })
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

// BenchmarkSamplingDecision is BenchmarkRequestModes' off against an
// Inspector that traces (almost) nothing, at a rate of 10⁻¹²: what every
// message pays for the decision when the inspector is on.
func BenchmarkSamplingDecision(b *testing.B) {
	for _, rate := range []float64{0, 1e-12} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			c := DefaultConfig()
			c.Mode, c.SamplingRate, c.DetectCycles = Production, rate, false
			if rate == 0 {
				c.Mode = Off
			}
			i, s := testSystem(b, c, Options{})
			ref, _ := s.SpawnActor("echo", echoActor{})
			ctx := context.Background()
			warmUp(i, func() { _, _ = s.Request(ctx, ref, "hi") })
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
			i, s := testSystem(b, c, Options{})
			inner, _ := s.SpawnActor("inner", echoActor{})
			outer, _ := s.Spawn("outer", echo)
			ctx := context.Background()
			route := relay{inner}
			warmUp(i, func() { _, _ = s.Request(ctx, outer, route) })
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
// size — the staging buffers made, the event ring full (10,000 events:
// 10,000 requests in development mode, 100,000 in analysis, a million in
// production) — so the timed loop measures the steady state. Stopping at
// 30,000 requests left the analysis ring growing by doubling during the
// timed loop, and its allocations and copies were counted as analysis
// mode's cost (docs/benchmarks.md#inspector).
func warmUp(i *Inspector, op func()) {
	for range 30_000 {
		op()
	}
	if i.cfg.Mode == Off || i.sampler.rate() < 0.01 {
		return
	}
	for n := 0; n < 3_000_000; n++ {
		if n%10_000 == 0 && i.Stats().Events >= i.cfg.MaxEvents {
			return
		}
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

// capture is an Observer that keeps the first traced message's
// observation and passes everything on to the Inspector.
type capture struct {
	*Inspector
	first chan actors.Observation
}

func (c capture) Observe(o *actors.Observation) {
	if o.Kind == actors.ObservedMessage {
		select {
		case c.first <- *o:
		default:
		}
	}
	c.Inspector.Observe(o)
}

// BenchmarkRecord is what the inspector itself does per traced message,
// apart from the actor core's stamps and wrapper: staging the observation
// on the actor's goroutine (stage), and turning it into an event and the
// actor's figures on the recorder (record).
func BenchmarkRecord(b *testing.B) {
	i := New(devConfig(), Options{})
	c := capture{i, make(chan actors.Observation, 1)}
	s := actors.NewSystem(actors.WithObserver(c))
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	ref, _ := s.SpawnActor("echo", echoActor{})
	if _, err := s.Request(context.Background(), ref, "hi"); err != nil {
		b.Fatal(err)
	}
	o := <-c.first
	b.Run("stage", func(b *testing.B) {
		cpu := cputime.Used()
		for b.Loop() {
			i.Observe(&o)
			if len(i.staging.cur) == i.staging.size {
				b.StopTimer()
				i.flush()
				b.StartTimer()
			}
		}
		cputime.PerOp(b, cpu)
	})
	b.Run("record", func(b *testing.B) {
		batch := make([]staged, 1)
		i.staging.put(&o)
		batch[0] = i.staging.take()[0]
		now := time.Now() // a batch's
		cpu := cputime.Used()
		for b.Loop() {
			i.mu.Lock()
			i.record(&batch[0], 1, now)
			i.mu.Unlock()
		}
		cputime.PerOp(b, cpu)
	})
}
