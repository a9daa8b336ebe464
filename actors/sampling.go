package actors

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
)

// Sampling is how a System picks the messages it traces for its Observer:
// each message at random with probability Rate, plus those the Observer's
// Sample picks among the ones Ask says to ask about. Its methods are safe
// for concurrent use; an Observer may change the rate at any time.
//
// Why a rate the System draws, rather than a question per message: the
// System draws, per actor, how many messages to let pass before the next
// traced one (a geometric gap, which picks each message independently
// with probability Rate), so a message it does not trace costs a
// decrement of a counter beside the mailbox lock it takes anyway. Asking
// the Observer about every message cost each one ~19 ns, half a random
// number and half the interface call: 4% of a bare actor round trip of
// 505 ns, where issue 17 allows production mode 1%
// (docs/benchmarks.md#inspector).
type Sampling struct {
	gaps atomic.Pointer[gaps]
	ask  Ask
}

// Ask says which of the messages the rate does not pick the Observer's
// Sample is asked about.
type Ask uint8

const (
	// AskEvery asks about every message: the Observer picks by message.
	AskEvery Ask = iota
	// AskCaused asks about messages with a cause (a context other than
	// context.Background(), or a hop from another node): an Observer that
	// follows requests, such as traces OTel samples, needs no more.
	AskCaused
	// AskNever asks about none: the rate alone decides.
	AskNever
)

// NewSampling returns a Sampling at rate (clamped to [0, 1]) that asks
// the Observer about the messages ask says.
func NewSampling(rate float64, ask Ask) *Sampling {
	s := &Sampling{ask: ask}
	s.SetRate(rate)
	return s
}

// SetRate changes the rate, clamped to [0, 1]. Each actor's next message
// is picked at the new rate.
func (s *Sampling) SetRate(rate float64) {
	rate = min(max(rate, 0), 1)
	old := s.gaps.Load()
	if old != nil && old.rate == rate {
		return
	}
	g := &gaps{rate: rate, lnq: math.Log1p(-rate), gen: 1}
	if old != nil && old.gen < math.MaxUint8 {
		g.gen = old.gen + 1
	}
	s.gaps.Store(g)
}

// Rate returns the current rate.
func (s *Sampling) Rate() float64 { return s.gaps.Load().rate }

// Ask returns which messages the Observer is asked about.
func (s *Sampling) Ask() Ask { return s.ask }

// gaps draws the number of messages to let pass before the next traced
// one, at one rate. gen numbers the rates a Sampling had, 1 to 255 and
// round again; an actor whose draw has another gen draws afresh. (An
// actor idle through exactly a multiple of 255 changes keeps its draw:
// one gap at an older rate, then the current one.)
type gaps struct {
	rate float64
	lnq  float64 // ln(1 − rate)
	gen  uint8
}

// clamped marks a countdown that holds only the first part of a gap too
// long for it: when that part has passed, the rest of the gap is drawn
// again, which the geometric law allows (it has no memory).
const clamped = 1 << 31

// draw returns a geometric gap, k with probability (1−rate)^k·rate, or
// clamped|(clamped−1) for one of 2³¹ or more.
func (g *gaps) draw() uint32 {
	switch {
	case g.rate >= 1:
		return 0
	case g.rate <= 0:
		return math.MaxUint32
	}
	k := math.Log(1-rand.Float64()) / g.lnq // 1−Float64 is in (0, 1]
	if k >= clamped {
		return math.MaxUint32
	}
	return uint32(k)
}

// pick reports whether the rate of s picks the next message to the actor
// of m; m.mu is held. The countdown lives beside the lock because the
// lock's cache line is the one every sender writes already; the actor's
// observed, where it would otherwise go, is read by its drain goroutine
// for every message. Alone it costs ~3 ns (BenchmarkSamplingPick).
func (m *mailbox) pick(s *Sampling) bool {
	g := s.gaps.Load()
	if m.sampleGen != g.gen {
		m.sampleGen, m.sampleSkip = g.gen, g.draw()
	}
	for {
		switch {
		case m.sampleSkip&^clamped > 0:
			m.sampleSkip--
			return false
		case m.sampleSkip == 0:
			m.sampleSkip = g.draw()
			return true
		}
		m.sampleSkip = g.draw() // the first part of a long gap has passed
	}
}
