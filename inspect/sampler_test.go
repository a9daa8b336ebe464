package inspect

import (
	"context"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

func TestSamplerRate(t *testing.T) {
	for _, rate := range []float64{0, 0.01, 0.1, 0.5, 1} {
		s := newSampler(rate, false)
		const n = 200_000
		hits := 0
		for range n {
			if s.sample(false) {
				hits++
			}
		}
		got := float64(hits) / n
		// Five standard deviations of a binomial: fails by chance about
		// once in 3.5 million runs.
		tol := 5 * math.Sqrt(rate*(1-rate)/n)
		if math.Abs(got-rate) > tol {
			t.Errorf("rate %v: sampled %v of messages (tolerance %v)", rate, got, tol)
		}
		if s.rate() != rate {
			t.Errorf("rate() = %v, want %v", s.rate(), rate)
		}
	}
}

// TestSamplerFollowsTraces: a message caused by a sampled trace is always
// traced when FollowTraces is on, never forced when off.
func TestSamplerFollowsTraces(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	unsampled := trace.ContextWithSpanContext(context.Background(), sc.WithTraceFlags(0))
	on, off := newSampler(0, true), newSampler(0, false)
	for range 100 {
		if !on.follows(ctx) || !on.sample(true) {
			t.Fatal("a sampled trace was not traced")
		}
		if on.follows(unsampled) || off.follows(ctx) || on.follows(context.Background()) || on.sample(false) || off.sample(true) {
			t.Fatal("traced at rate 0 without a sampled trace to follow")
		}
	}
}

func TestAdaptive(t *testing.T) {
	a := &adaptive{cfg: AdaptiveConfig{MinRate: 0.001, MaxRate: 0.5, OverheadTarget: 0.02, Interval: time.Second}}
	// At rate 0.1 the traced messages took 1 s of Receive (so all took
	// ~10 s) and recording them 1 s: 10% overhead, five times the target.
	a.account(time.Second, time.Second)
	rate, overhead := a.next(0.1)
	if math.Abs(overhead-0.1) > 1e-9 || math.Abs(rate-0.02) > 1e-9 {
		t.Errorf("over target: rate %v overhead %v, want 0.02 and 0.1", rate, overhead)
	}
	// Far under the target it climbs, doubling at most.
	a.account(time.Millisecond, time.Second)
	if rate, _ = a.next(0.02); math.Abs(rate-0.04) > 1e-9 {
		t.Errorf("under target: rate %v, want 0.04", rate)
	}
	// Clamped to its bounds.
	a.account(time.Hour, time.Second)
	if rate, _ = a.next(0.02); rate != 0.001 {
		t.Errorf("rate %v, want the minimum", rate)
	}
	a.account(0, time.Second)
	if rate, _ = a.next(0.4); rate != 0.5 {
		t.Errorf("rate %v, want the maximum", rate)
	}
	// Nothing traced: keep the rate.
	if rate, _ = a.next(0.3); rate != 0.3 {
		t.Errorf("rate %v with nothing measured, want 0.3", rate)
	}
}

// BenchmarkSample is the recorder's decision for a dead letter at 1%: a
// random number and an atomic load, what every message paid before the
// System drew gaps (actors.BenchmarkSamplingPick).
func BenchmarkSample(b *testing.B) {
	s := newSampler(0.01, true)
	for b.Loop() {
		s.sample(false)
	}
}

// recorded returns how many message events the Inspector recorded.
func recorded(i *Inspector) int {
	return len(i.Events(EventFilter{Kind: KindMessage}))
}

// TestInspectorFollowsSampledTraces: with traces followed, a request
// whose trace OTel samples is recorded at a rate that picks nothing, and
// one whose trace is not sampled is not.
func TestInspectorFollowsSampledTraces(t *testing.T) {
	c := DefaultConfig()
	c.Mode, c.SamplingRate, c.DetectCycles = Production, 1e-12, false
	i, s := testSystem(t, c, Options{FollowTraces: true})
	ref, err := s.Spawn("echo", echo)
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled,
	})
	sampled := trace.ContextWithSpanContext(context.Background(), sc)
	unsampled := trace.ContextWithSpanContext(context.Background(), sc.WithTraceFlags(0))
	for range 50 {
		for _, ctx := range []context.Context{unsampled, sampled, context.Background()} {
			if _, err := s.Request(ctx, ref, "hi"); err != nil {
				t.Fatal(err)
			}
		}
	}
	events := waitEvents(t, i, EventFilter{Kind: KindMessage}, 50)
	time.Sleep(50 * time.Millisecond) // any event too many is recorded by now
	if n := recorded(i); n != 50 {
		t.Fatalf("%d events, want the 50 sampled requests", n)
	}
	for _, e := range events {
		if e.TraceID != TraceID(sc.TraceID()) {
			t.Fatalf("recorded %+v, not of the sampled trace", e)
		}
	}
}

// TestInspectorRateChangeTakesEffect: a rate the Inspector sets (as the
// adaptive sampler does) changes what the System traces, at once.
func TestInspectorRateChangeTakesEffect(t *testing.T) {
	c := DefaultConfig()
	c.Mode, c.SamplingRate, c.DetectCycles = Production, 1e-12, false
	i, s := testSystem(t, c, Options{})
	ref, err := s.Spawn("echo", echo)
	if err != nil {
		t.Fatal(err)
	}
	request := func(n int) {
		for range n {
			if _, err := s.Request(context.Background(), ref, "hi"); err != nil {
				t.Fatal(err)
			}
		}
	}
	request(1000)
	if n := recorded(i); n != 0 {
		t.Fatalf("%d events at rate 1e-12", n)
	}
	i.sampler.set(1)
	request(10)
	waitEvents(t, i, EventFilter{Kind: KindMessage}, 10)
	i.sampler.set(0.25)
	const n = 4000
	request(n)
	got := recorded(i) - 10
	if tol := 5 * math.Sqrt(0.25*0.75*n); math.Abs(float64(got)-0.25*n) > tol {
		t.Errorf("at rate 0.25, %d of %d requests recorded (tolerance ±%.0f)", got, n, tol)
	}
	if r := i.Stats().SamplingRate; r != 0.25 {
		t.Errorf("Stats().SamplingRate = %v, want 0.25", r)
	}
}

// TestAdaptiveSetsSystemRate: the adaptive sampler's choice is the rate
// of the Sampling the System draws from.
func TestAdaptiveSetsSystemRate(t *testing.T) {
	c := DefaultConfig()
	c.Mode, c.DetectCycles = Production, false
	c.Adaptive = AdaptiveConfig{Enabled: true, MinRate: 0.001, MaxRate: 1, OverheadTarget: 0.02, Interval: time.Hour}
	i, _ := testSystem(t, c, Options{})
	// Recording was cheap against the work: the rate climbs, doubling.
	i.adaptive.account(time.Nanosecond, time.Second)
	i.adjust()
	if got := i.Sampling().Rate(); got != 0.02 {
		t.Fatalf("after a cheap interval the System's rate is %v, want 0.02", got)
	}
	// Recording cost as much as the work: down to the minimum.
	i.adaptive.account(time.Hour, time.Second)
	i.adjust()
	if got := i.Sampling().Rate(); got != 0.001 {
		t.Fatalf("after a costly interval the System's rate is %v, want 0.001", got)
	}
}
