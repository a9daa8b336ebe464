package actors

import (
	"math/rand/v2"
	"time"
)

type strategyKind uint8

const (
	oneForOne strategyKind = iota
	oneForAll
	restForOne
)

// Strategy is how a parent treats a failing child. Build one with OneForOne,
// OneForAll or RestForOne and set it with WithSupervisor. Unset intensity and
// backoff come from the System's Config.
type Strategy struct {
	kind         strategyKind
	maxRestarts  int
	window       time.Duration
	backoffMin   time.Duration
	backoffMax   time.Duration
	hasIntensity bool
	hasBackoff   bool
}

// StrategyOption tunes a Strategy.
type StrategyOption func(*Strategy)

// OneForOne restarts only the failing child: children are independent.
func OneForOne(opts ...StrategyOption) Strategy { return newStrategy(oneForOne, opts) }

// OneForAll restarts every child when one fails: children that only make
// sense together (shared state, a protocol between them).
func OneForAll(opts ...StrategyOption) Strategy { return newStrategy(oneForAll, opts) }

// RestForOne restarts the failing child and the children spawned after it:
// later children depend on earlier ones, not the other way round.
func RestForOne(opts ...StrategyOption) Strategy { return newStrategy(restForOne, opts) }

func newStrategy(k strategyKind, opts []StrategyOption) Strategy {
	s := Strategy{kind: k}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// MaxRestarts sets the restart intensity: a child that fails more than n
// times within window gives up, and its failure escalates to the parent.
// n = 0 means never restart.
func MaxRestarts(n int, window time.Duration) StrategyOption {
	return func(s *Strategy) {
		s.maxRestarts, s.window, s.hasIntensity = max(n, 0), window, true
	}
}

// Backoff sets the delay before a restart: min, doubling with each failure
// inside the window, capped at max, with jitter so that siblings that failed
// together do not restart in lockstep. Backoff(0, 0) restarts at once.
func Backoff(min, max time.Duration) StrategyOption {
	return func(s *Strategy) {
		s.backoffMin, s.backoffMax, s.hasBackoff = min, max, true
	}
}

// resolve fills what the options left unset from the System's Config.
func (s Strategy) resolve(c Config) Strategy {
	if !s.hasIntensity {
		s.maxRestarts, s.window = c.MaxRestarts, c.RestartWindow
	}
	if !s.hasBackoff {
		s.backoffMin, s.backoffMax = c.BackoffMin, c.BackoffMax
	}
	s.backoffMax = max(s.backoffMax, s.backoffMin)
	return s
}

// delay returns the backoff before the restart that follows failure n
// (1-based, counted within the window): min·2^(n-1) capped at max, of which
// a random upper half is used.
func (s *Strategy) delay(n int) time.Duration {
	if s.backoffMin <= 0 {
		return 0
	}
	d := s.backoffMax
	if shift := n - 1; shift < 32 && s.backoffMin<<shift < s.backoffMax {
		d = s.backoffMin << shift
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// targets returns who restarts when child fails under parent.
func (s *Strategy) targets(parent, child *process) []*process {
	if s.kind == oneForOne {
		return []*process{child}
	}
	kids := parent.children()
	if s.kind == restForOne {
		i := 0
		for i < len(kids) && kids[i].id < child.id {
			i++
		}
		kids = kids[i:]
	}
	return kids
}
