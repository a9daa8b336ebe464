package resilience

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Limit is a rate limit: Rate requests per Period, with bursts of up to
// Burst requests. The Generic Cell Rate Algorithm (GCRA) behind every Store
// spaces requests one emission interval (Period/Rate) apart and tolerates
// Burst-1 intervals of debt, so a fresh key may spend Burst at once and then
// one request per interval.
type Limit struct {
	// Rate is the number of requests allowed per Period. Zero means no
	// limit: the HTTP stage skips a class or route whose Rate is zero.
	Rate int
	// Period is the window Rate is measured over.
	Period time.Duration
	// Burst is the most requests admitted at once; zero means Rate.
	Burst int
}

// PerSecond returns a limit of rate requests per second, bursting to rate.
func PerSecond(rate int) Limit { return Limit{Rate: rate, Period: time.Second} }

// PerMinute returns a limit of rate requests per minute, bursting to rate.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Period: time.Minute} }

// IsZero reports whether l limits nothing (a zero Rate).
func (l Limit) IsZero() bool { return l.Rate == 0 }

// Validate reports why l cannot be enforced, as a *fielderr.Error naming
// the field: a negative or zero rate, a non-positive period, a negative
// burst, or an emission interval (Period/Rate) under a nanosecond.
func (l Limit) Validate() error {
	switch {
	case l.Rate <= 0:
		return fielderr.New("Rate", "must be positive, got %d", l.Rate)
	case l.Period <= 0:
		return fielderr.New("Period", "must be positive, got %s", l.Period)
	case l.Burst < 0:
		return fielderr.New("Burst", "must not be negative, got %d", l.Burst)
	case l.Period/time.Duration(l.Rate) <= 0:
		return fielderr.New("Rate", "%d per %s is finer than one request per nanosecond", l.Rate, l.Period)
	}
	return nil
}

// burst returns the effective burst: Burst, or Rate when Burst is zero.
func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

// interval returns the GCRA emission interval, Period/Rate.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Rate) }

// Result is one rate-limit decision.
type Result struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the limit the decision applied.
	Limit Limit
	// Remaining is how many more requests the key could make right now.
	Remaining int
	// RetryAfter is how long a refused request must wait before the same
	// request would be allowed; zero when Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
}

// Store decides rate limits for keys. Implementations are safe for
// concurrent use. An error means the store could not decide (Redis down, a
// cancelled context, an invalid limit); wrap the store in a FallbackStore to
// turn store outages into a policy instead of an error.
type Store interface {
	// Allow spends n requests of key's budget under l if they fit, and
	// reports the decision. n must be between 1 and l's burst.
	Allow(ctx context.Context, key string, l Limit, n int) (Result, error)
	// Name names the store in metrics and logs: "memory" or "redis".
	Name() string
}

// ErrCost is returned when a request asks for fewer than one or more than
// a burst of tokens: a cost no budget could ever satisfy.
var ErrCost = errors.New("rate limit: cost must be between 1 and the burst")

// checkRequest validates the arguments common to every Store.Allow. The
// usual case costs a few comparisons and one division, since it runs on
// every decision; Validate explains what is wrong.
func checkRequest(l Limit, n int) error {
	if l.Rate <= 0 || l.Period <= 0 || l.Burst < 0 || l.interval() <= 0 {
		return fmt.Errorf("rate limit: %w", l.Validate())
	}
	if n < 1 || n > l.burst() {
		return fmt.Errorf("%w (cost %d, burst %d)", ErrCost, n, l.burst())
	}
	return nil
}
