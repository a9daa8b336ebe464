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
			if s.sample(context.Background()) {
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
		if !on.sample(ctx) {
			t.Fatal("a sampled trace was not traced")
		}
		if on.sample(unsampled) || off.sample(ctx) || on.sample(context.Background()) {
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

func BenchmarkSample(b *testing.B) {
	s := newSampler(0.01, true)
	ctx := context.Background()
	for b.Loop() {
		s.sample(ctx)
	}
}
