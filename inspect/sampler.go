package inspect

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
)

// sampler picks the messages to trace: each with probability rate, and
// every message whose cause is a trace OTel samples, so the inspector and
// the traces tell of the same requests. The actor system draws the rate
// (actors.Sampling: per actor, the gap to the next traced message) and
// asks Sample only about messages with a cause, and only when traces are
// followed, so a message not traced costs the System a decrement and no
// call here. sample is the same decision for what the System does not
// ask about: dead letters, which the recorder keeps at the rate.
type sampler struct {
	sampling *actors.Sampling
	traces   bool // follow OTel's sampled flag
}

func newSampler(rate float64, traces bool) *sampler {
	ask := actors.AskNever
	if traces {
		ask = actors.AskCaused
	}
	return &sampler{sampling: actors.NewSampling(rate, ask), traces: traces}
}

// set changes the rate.
func (s *sampler) set(rate float64) { s.sampling.SetRate(rate) }

// rate returns the current rate.
func (s *sampler) rate() float64 { return s.sampling.Rate() }

// sample decides for one message, with a random number of its own;
// sampledTrace is whether its cause is a trace OTel samples.
func (s *sampler) sample(sampledTrace bool) bool {
	if r := s.rate(); r >= 1 || rand.Float64() < r {
		return true
	}
	return s.traces && sampledTrace
}

// follows reports whether ctx is a trace OTel samples that the inspector
// follows.
func (s *sampler) follows(ctx context.Context) bool {
	return s.traces && trace.SpanContextFromContext(ctx).IsSampled()
}

// adaptive is the controller of inspect.adaptive: every interval it
// compares what recording cost with the processing time of the messages
// it watched, and moves the rate toward the overhead target.
type adaptive struct {
	cfg AdaptiveConfig
	// Accumulated since the last adjustment, in nanoseconds: the time
	// spent recording traced messages, and the time those messages spent
	// in Receive.
	cost, work atomic.Int64
}

// account adds one traced message: recording it cost cost, Receive took
// work.
func (a *adaptive) account(cost, work time.Duration) {
	a.cost.Add(int64(cost))
	a.work.Add(int64(work))
}

// next returns the rate to use after an interval at rate, and the
// overhead measured: recording's cost over the processing time of every
// message, estimated from the traced ones (their time over the rate).
// With nothing traced it keeps the rate.
func (a *adaptive) next(rate float64) (float64, float64) {
	cost, work := a.cost.Swap(0), a.work.Swap(0)
	if work <= 0 || rate <= 0 {
		return rate, 0
	}
	overhead := float64(cost) / (float64(work) / rate)
	switch target := a.cfg.OverheadTarget; {
	case overhead > target:
		// Scale down to the target at once: the cost is linear in the rate.
		rate *= target / overhead
	case overhead < target/2:
		// Climb back slowly, doubling at most, so one quiet interval does
		// not undo a measured excess.
		rate *= min(2, target/overhead/2)
	}
	return min(max(rate, a.cfg.MinRate), a.cfg.MaxRate), overhead
}
