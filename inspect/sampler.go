package inspect

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// sampler picks the messages to trace: each with probability rate, drawn
// per message, and every message whose cause is a trace OTel samples, so
// the inspector and the traces tell of the same requests. The draw is one
// random number and an atomic load; with the Observer call around it, it
// costs every message ~19 ns on a KVM guest (BenchmarkSamplingDecision),
// half of it the random number.
type sampler struct {
	threshold atomic.Uint64 // rate × 2⁶⁴; a message is traced when its draw is below
	all       atomic.Bool   // rate 1: every message
	bits      atomic.Uint64 // the rate, math.Float64bits
	traces    bool          // follow OTel's sampled flag
}

func newSampler(rate float64, traces bool) *sampler {
	s := &sampler{traces: traces}
	s.set(rate)
	return s
}

// set changes the rate.
func (s *sampler) set(rate float64) {
	rate = min(max(rate, 0), 1)
	s.bits.Store(math.Float64bits(rate))
	s.all.Store(rate >= 1)
	if rate >= 1 {
		s.threshold.Store(math.MaxUint64)
		return
	}
	s.threshold.Store(uint64(rate * (1 << 63) * 2))
}

// rate returns the current rate.
func (s *sampler) rate() float64 { return math.Float64frombits(s.bits.Load()) }

// sample decides for one message caused by ctx.
func (s *sampler) sample(ctx context.Context) bool {
	if s.all.Load() || rand.Uint64() < s.threshold.Load() {
		return true
	}
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
