package resilience

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/troupehq/troupe/internal/fielderr"
)

// BreakerSettings are the knobs of one circuit breaker, inbound or outbound.
// None of them can mean "off", so the constructors give zero fields the
// values of DefaultBreakerSettings.
type BreakerSettings struct {
	// FailureRatio trips the breaker when failures make up at least this
	// share of the requests judged within Interval: those that ended as a
	// success or a failure, not those excluded (see CircuitBreaker).
	// Default 0.5.
	FailureRatio float64
	// MinRequests is how many judged requests Interval must hold before the
	// ratio may trip the breaker, so that two failures of three at night do
	// not take a route down. Default 20.
	MinRequests int
	// Interval is the rolling window over which the closed breaker counts,
	// in ten buckets. Default 60s.
	Interval time.Duration
	// OpenTimeout is how long the breaker stays open before it lets probes
	// through (half-open). Default 30s.
	OpenTimeout time.Duration
	// HalfOpenRequests is how many probes the half-open breaker lets through;
	// that many successes in a row close it, one failure opens it again.
	// Default 5.
	HalfOpenRequests int
}

// DefaultBreakerSettings are the settings zero fields of BreakerSettings
// take, the same as the defaults of the resilience.breaker.* and
// resilience.client.breaker.* keys.
var DefaultBreakerSettings = BreakerSettings{
	FailureRatio:     0.5,
	MinRequests:      20,
	Interval:         60 * time.Second,
	OpenTimeout:      30 * time.Second,
	HalfOpenRequests: 5,
}

// Validate reports every setting out of range, each as a *fielderr.Error
// naming the field. It judges s as given, as a service fills it from its
// keys: a zero is reported, though the constructors would give it its
// default.
func (s BreakerSettings) Validate() error {
	var errs []error
	if !(s.FailureRatio > 0 && s.FailureRatio <= 1) {
		errs = append(errs, fielderr.New("FailureRatio", "must be greater than 0 and at most 1, got %v", s.FailureRatio))
	}
	if s.MinRequests < 1 {
		errs = append(errs, fielderr.New("MinRequests", "must be at least 1, got %d", s.MinRequests))
	}
	errs = append(errs, positive("Interval", s.Interval), positive("OpenTimeout", s.OpenTimeout))
	if s.HalfOpenRequests < 1 {
		errs = append(errs, fielderr.New("HalfOpenRequests", "must be at least 1, got %d", s.HalfOpenRequests))
	}
	return errors.Join(errs...)
}

func (s BreakerSettings) withDefaults() BreakerSettings {
	d := DefaultBreakerSettings
	if s.FailureRatio == 0 {
		s.FailureRatio = d.FailureRatio
	}
	if s.MinRequests == 0 {
		s.MinRequests = d.MinRequests
	}
	if s.Interval == 0 {
		s.Interval = d.Interval
	}
	if s.OpenTimeout == 0 {
		s.OpenTimeout = d.OpenTimeout
	}
	if s.HalfOpenRequests == 0 {
		s.HalfOpenRequests = d.HalfOpenRequests
	}
	return s
}

// Breaker kinds, the troupe.breaker.kind attribute.
const (
	breakerInbound  = "inbound"
	breakerOutbound = "outbound"
)

// Outcomes reported to gobreaker: nil is a success, errBreakerFailure a
// failure, errBreakerExcluded neither (the caller gave up, which says
// nothing about the health of what it called).
var (
	errBreakerFailure  = errors.New("failure")
	errBreakerExcluded = errors.New("excluded")
)

// breaker is one named gobreaker with what Troupe adds around it: metrics,
// logs, and the time it last opened, from which Retry-After is computed
// (gobreaker does not expose its expiry).
type breaker struct {
	name, kind  string
	cb          *gobreaker.TwoStepCircuitBreaker[struct{}]
	metrics     *breakerMetrics
	openTimeout time.Duration
	openedAt    atomic.Int64 // UnixNano of the last transition to open
}

func newBreaker(name, kind string, s BreakerSettings, metrics *breakerMetrics, logger *slog.Logger) *breaker {
	b := &breaker{name: name, kind: kind, metrics: metrics, openTimeout: s.OpenTimeout}
	metrics.created(context.Background(), name, kind)
	ratio, minRequests := s.FailureRatio, uint32(s.MinRequests)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         name,
		MaxRequests:  uint32(s.HalfOpenRequests),
		Interval:     s.Interval,
		BucketPeriod: s.Interval / 10,
		Timeout:      s.OpenTimeout,
		// Judged by the requests that ended as a success or a failure:
		// gobreaker's Requests also holds those still in flight and those
		// excluded, and an excluded request must not dilute the ratio, or
		// a flood of bad requests would keep a failing route's breaker
		// closed.
		ReadyToTrip: func(c gobreaker.Counts) bool {
			judged := c.TotalSuccesses + c.TotalFailures
			return judged >= minRequests && float64(c.TotalFailures) >= ratio*float64(judged)
		},
		IsExcluded: func(err error) bool { return err == errBreakerExcluded },
		// Called with gobreaker's lock held: record and log, never call back.
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedAt.Store(time.Now().UnixNano())
			}
			metrics.stateChange(context.Background(), name, kind, from.String(), to.String())
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			logger.LogAttrs(context.Background(), level, "circuit breaker "+to.String(),
				slog.String("breaker", name), slog.String("kind", kind),
				slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})
	return b
}

// allow asks the breaker for a request. On refusal it returns the error
// gobreaker gave (ErrOpenState or ErrTooManyRequests).
func (b *breaker) allow() (done func(outcome error), err error) { return b.cb.Allow() }

// retryAfter is how long a refused client should wait: until the open
// breaker turns half-open, or a second when half-open probes are all out.
// It is at least one second, as Retry-After counts whole seconds.
func (b *breaker) retryAfter(refusal error) time.Duration {
	if !errors.Is(refusal, gobreaker.ErrOpenState) {
		return time.Second
	}
	left := time.Until(time.Unix(0, b.openedAt.Load()).Add(b.openTimeout))
	return max(left, time.Second)
}
