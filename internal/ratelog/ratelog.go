// Package ratelog bounds how often a recurring failure is logged: an
// unreachable collector or Redis fails on every request, and a log line per
// failure would bury everything else. Troupe's subsystems share this one
// rule: at most one line per interval, with a count of the lines held back.
package ratelog

import (
	"sync"
	"time"
)

// Limiter admits one log line per interval. It is safe for concurrent use;
// the zero value is not usable, call New.
type Limiter struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// New returns a Limiter admitting one line per every.
func New(every time.Duration) *Limiter { return &Limiter{every: every} }

// Allow reports whether a line may be logged at now and, when it may, how
// many were held back since the last one (to log with it). The first call
// is always allowed.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return true, suppressed
}

// Logged records a line logged at now outside Allow (a state change that is
// always logged), so the next interval starts from it. It returns, and
// clears, the count held back so far.
func (l *Limiter) Logged(now time.Time) (suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return suppressed
}
