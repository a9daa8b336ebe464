package actors

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/cputime"
)

// counter counts messages and closes done at n.
type counter struct {
	n, want int
	done    chan struct{}
}

func (a *counter) Receive(_ *Context, msg any) {
	if _, ok := msg.(int); !ok {
		return
	}
	a.n++
	if a.n == a.want {
		close(a.done)
	}
}

func BenchmarkSend1to1(b *testing.B) {
	s := newTestSystem(b)
	a := &counter{want: b.N, done: make(chan struct{})}
	ref, err := s.SpawnActor("", a)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Send(ref, i&0xff); err != nil {
			b.Fatal(err)
		}
	}
	<-a.done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkSendNtoN(b *testing.B) {
	s := newTestSystem(b)
	pairs := runtime.GOMAXPROCS(0) * 4
	per := b.N/pairs + 1
	refs := make([]Ref, pairs)
	actors := make([]*counter, pairs)
	for i := range refs {
		actors[i] = &counter{want: per, done: make(chan struct{})}
		ref, err := s.SpawnActor("", actors[i])
		if err != nil {
			b.Fatal(err)
		}
		refs[i] = ref
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Go(func() {
			for j := range per {
				if err := s.Send(refs[i], j&0xff); err != nil {
					b.Error(err)
					return
				}
			}
			<-actors[i].done
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(per*pairs)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkRequest(b *testing.B) {
	s := newTestSystem(b)
	ref, err := s.Spawn("", echoer)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := s.Request(ctx, ref, i&0xff); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkRequestDeadline(b *testing.B) {
	s := newTestSystem(b)
	ref, err := s.Spawn("", echoer)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Request(ctx, ref, i&0xff); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSpawnStop(b *testing.B) {
	s := newTestSystem(b)
	b.ReportAllocs()
	for b.Loop() {
		ref, err := s.Spawn("", echoer)
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Stop(ref)
		<-s.Done(ref)
	}
}

func BenchmarkLookup(b *testing.B) {
	s := newTestSystem(b)
	for i := range 1000 {
		if _, err := s.Spawn(fmt.Sprint("actor-", i), echoer); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Lookup("actor-500"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIdleActorHeap(b *testing.B) {
	const n = 100_000
	b.ReportAllocs()
	for b.Loop() {
		s := NewSystem()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		refs := make([]Ref, n)
		var started atomic.Int64
		ready := make(chan struct{})
		a := fn(func(c *Context, msg any) {
			if _, ok := msg.(Started); ok && started.Add(1) == n {
				close(ready)
			}
		})
		for i := range refs {
			ref, err := s.SpawnActor("", a)
			if err != nil {
				b.Fatal(err)
			}
			refs[i] = ref
		}
		<-ready
		runtime.GC()
		runtime.ReadMemStats(&after)
		perActor := float64(after.HeapAlloc-before.HeapAlloc-uint64(n*16)) / n // minus the refs slice
		b.ReportMetric(perActor, "bytes/actor")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		if err := s.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(refs)
	}
}

// BenchmarkRequestNested is a Request to an actor that requests another
// before answering: the path the cycle detector watches. "cycles" runs it
// with WithCycleDetection and an Observer that traces nothing.
func BenchmarkRequestNested(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"cycles", []Option{WithObserver(nopObserver{}), WithCycleDetection(false)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newTestSystem(b, bc.opts...)
			inner, err := s.Spawn("", echoer)
			if err != nil {
				b.Fatal(err)
			}
			outer, err := s.Spawn("", func() Actor {
				return fn(func(c *Context, msg any) {
					if _, ok := msg.(int); ok {
						v, _ := c.Request(c.Context(), inner, msg)
						c.Respond(v)
					}
				})
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			cpu := cputime.Used()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Request(ctx, outer, i&0xff); err != nil {
					b.Fatal(err)
				}
			}
			cputime.PerOp(b, cpu)
		})
	}
}

// nopObserver traces nothing.
type nopObserver struct{}

func (nopObserver) Sampling() *Sampling                   { return NewSampling(0, AskNever) }
func (nopObserver) Sample(context.Context, Ref, any) bool { return false }
func (nopObserver) Observe(*Observation)                  {}
func (nopObserver) Cycle(Cycle)                           {}

// sampler traces every message, or none, and records nothing.
type sampler bool

func (s sampler) Sampling() *Sampling {
	if s {
		return NewSampling(1, AskNever)
	}
	return NewSampling(0, AskNever)
}
func (s sampler) Sample(context.Context, Ref, any) bool { return bool(s) }
func (sampler) Observe(*Observation)                    {}
func (sampler) Cycle(Cycle)                             {}

// BenchmarkRequestTraced is a Request without an Observer, with one that
// traces nothing, and with one that traces everything but records
// nothing: the actor core's share of a traced message — its stamps and
// wrapper — apart from the inspector's (inspect.BenchmarkRecord).
func BenchmarkRequestTraced(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"none", nil}, {"sample-none", []Option{WithObserver(sampler(false))}}, {"sample-all", []Option{WithObserver(sampler(true))}}} {
		b.Run(bc.name, func(b *testing.B) {
			s := newTestSystem(b, bc.opts...)
			ref, err := s.Spawn("", echoer)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for range 10_000 {
				_, _ = s.Request(ctx, ref, 1)
			}
			b.ReportAllocs()
			cpu := cputime.Used()
			for b.Loop() {
				if _, err := s.Request(ctx, ref, 1); err != nil {
					b.Fatal(err)
				}
			}
			cputime.PerOp(b, cpu)
		})
	}
}
