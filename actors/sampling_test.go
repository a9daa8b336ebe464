package actors

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
)

// within fails t unless hits of n is rate to within five binomial
// standard deviations: a correct sampler fails by chance about once in
// 3.5 million runs.
func within(t *testing.T, what string, hits, n int, rate float64) {
	t.Helper()
	got := float64(hits) / float64(n)
	if tol := 5 * math.Sqrt(rate*(1-rate)/float64(n)); math.Abs(got-rate) > tol {
		t.Errorf("%s: picked %v of %d messages at rate %v (tolerance %v)", what, got, n, rate, tol)
	}
}

// TestSamplingRate: the countdown picks each message with the rate's
// probability, for one actor and spread over several.
func TestSamplingRate(t *testing.T) {
	const n = 200_000
	for _, rate := range []float64{0, 1e-3, 0.01, 0.1, 0.5, 0.9, 1} {
		s := NewSampling(rate, AskNever)
		if s.Rate() != rate {
			t.Errorf("Rate() = %v, want %v", s.Rate(), rate)
		}
		var m mailbox
		hits := 0
		for range n {
			if m.pick(s) {
				hits++
			}
		}
		within(t, "one actor", hits, n, rate)
		var ms [7]mailbox
		hits = 0
		for k := range n {
			if ms[k%len(ms)].pick(s) {
				hits++
			}
		}
		within(t, "seven actors", hits, n, rate)
	}
}

// TestSamplingRateChange: a new rate takes effect at each actor's next
// message, even for an actor whose countdown was drawn at a rate that
// would let it pass for ever.
func TestSamplingRateChange(t *testing.T) {
	s := NewSampling(0, AskNever)
	var m mailbox
	for range 1000 {
		if m.pick(s) {
			t.Fatal("picked at rate 0")
		}
	}
	s.SetRate(1)
	if !m.pick(s) {
		t.Fatal("rate 0 → 1: the next message was not picked")
	}
	s.SetRate(1e-9)
	m.pick(s)
	s.SetRate(0.3)
	const n = 100_000
	hits := 0
	for range n {
		if m.pick(s) {
			hits++
		}
	}
	within(t, "after 1e-9 → 0.3", hits, n, 0.3)
	// 255 changes later the numbering has gone round, and a change still
	// takes effect.
	for k := range 300 {
		s.SetRate(float64(k%2) * 1e-12)
		m.pick(s)
	}
	s.SetRate(1)
	if !m.pick(s) {
		t.Fatal("after 300 changes, rate 1 did not pick the next message")
	}
}

// TestSamplingLongGap: a gap longer than a countdown holds is drawn again
// when its first part has passed, not cut short by a pick.
func TestSamplingLongGap(t *testing.T) {
	// At 10⁻³⁰⁰ every gap is past what a countdown holds.
	s := NewSampling(1e-300, AskNever)
	var m mailbox
	if m.pick(s) || m.sampleSkip&clamped == 0 {
		t.Fatalf("at 1e-300: countdown %#x, want a clamped one", m.sampleSkip)
	}
	m.sampleSkip = clamped // the first part has passed
	if m.pick(s) {
		t.Fatal("the end of a clamped gap's first part picked a message")
	}
	if m.sampleSkip&clamped == 0 {
		t.Fatalf("after the clamped part, the countdown is %#x: not drawn again", m.sampleSkip)
	}
}

// askCounter is an Observer at a rate that counts what Sample is asked
// about, picking messages caused by a context with the value picked.
type askCounter struct {
	sampling *Sampling
	asked    atomic.Int64
	traced   atomic.Int64
}

type pickedKey struct{}

func (a *askCounter) Sampling() *Sampling { return a.sampling }
func (a *askCounter) Sample(ctx context.Context, _ Ref, _ any) bool {
	a.asked.Add(1)
	return ctx.Value(pickedKey{}) != nil
}
func (a *askCounter) Observe(o *Observation) {
	if o.Kind == ObservedMessage {
		a.traced.Add(1)
	}
}
func (a *askCounter) Cycle(Cycle) {}

// TestSamplingAsk: the Observer is asked about the messages its Sampling
// says — every one, those with a cause, none — and what it picks is traced
// although the rate picks nothing; at rate 1 it need not be asked.
func TestSamplingAsk(t *testing.T) {
	picked := context.WithValue(context.Background(), pickedKey{}, true)
	for _, bc := range []struct {
		ask           Ask
		rate          float64
		asked, traced int64
	}{
		{AskEvery, 0, 20, 10},
		{AskCaused, 0, 10, 10},
		{AskNever, 0, 0, 0},
		{AskNever, 1, 0, 20},
	} {
		a := &askCounter{sampling: NewSampling(bc.rate, bc.ask)}
		s := newTestSystem(t, WithObserver(a))
		ref, err := s.Spawn("", echoer)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := s.Request(context.Background(), ref, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Request(picked, ref, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if a.asked.Load() != bc.asked || a.traced.Load() != bc.traced {
			t.Errorf("ask %d rate %v: asked %d, traced %d; want %d, %d",
				bc.ask, bc.rate, a.asked.Load(), a.traced.Load(), bc.asked, bc.traced)
		}
	}
}

// TestSamplingThroughSystem: a System traces the rate's share of the
// messages to its actors.
func TestSamplingThroughSystem(t *testing.T) {
	a := &askCounter{sampling: NewSampling(0.2, AskNever)}
	s := newTestSystem(t, WithObserver(a))
	refs := make([]Ref, 3)
	for k := range refs {
		var err error
		if refs[k], err = s.Spawn("", echoer); err != nil {
			t.Fatal(err)
		}
	}
	const n = 6000
	for k := range n {
		if _, err := s.Request(context.Background(), refs[k%len(refs)], 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	within(t, "through a System", int(a.traced.Load()), n, 0.2)
}

// BenchmarkSamplingPick is the decision for one message at rate 1%: the
// countdown, without its lock (the sender holds it anyway).
// inspect.BenchmarkSample is the random draw it replaced.
func BenchmarkSamplingPick(b *testing.B) {
	s := NewSampling(0.01, AskNever)
	var m mailbox
	hits := 0
	for b.Loop() {
		if m.pick(s) {
			hits++
		}
	}
	b.ReportMetric(float64(hits)/float64(b.N), "picked/op")
}
