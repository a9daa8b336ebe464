package resilience

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

// BulkheadConfig configures Bulkhead.
type BulkheadConfig struct {
	// MaxConcurrent is how many requests of one route group may run at
	// once. Zero or less disables the bulkhead.
	MaxConcurrent int
	// MaxWait is how long a request may queue for a slot before it is
	// refused; the request's own deadline bounds it too. Zero refuses at
	// once when the group is full.
	MaxWait time.Duration
	// Group names the route group of a request from its method and route
	// template; each group has its own slots. It must return one of a fixed
	// set of names. Nil puts every route in DefaultGroup.
	Group func(method, route string) string
	// Metrics records waits, occupancy and refusals; nil records nothing.
	Metrics *telemetry.BulkheadMetrics
}

// ErrBulkheadFull is the cause of a request or call a full bulkhead refused.
var ErrBulkheadFull = errors.New("resilience: bulkhead full")

const bulkheadFullDetail = "The service is at capacity on this route; retry later."

// Bulkhead returns middleware that caps the concurrent requests of each
// route group, so one slow group cannot take every worker and starve the
// others. A request that finds its group full waits up to MaxWait (and no
// longer than its own deadline) for a slot, then gets a 503 problem with
// Retry-After: 1.
func Bulkhead(cfg BulkheadConfig) echo.MiddlewareFunc {
	if cfg.MaxConcurrent <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	group := groupOf(cfg.Group)
	slots := newGroupSet(func(string) semaphore { return make(semaphore, cfg.MaxConcurrent) })
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			ctx := r.Context()
			name := group(r.Method, c.Path())
			sem := slots.get(name)
			wait, err := sem.acquire(ctx, cfg.MaxWait)
			if err != nil {
				cfg.Metrics.Rejected(ctx, name)
				pe := problem.NewError(http.StatusServiceUnavailable, bulkheadFullDetail).WithHeader("Retry-After", "1")
				pe.Err = err
				return pe
			}
			cfg.Metrics.Acquired(ctx, name, wait)
			defer func() {
				sem.release()
				cfg.Metrics.Released(ctx, name)
			}()
			return next(c)
		}
	}
}

// semaphore is a counting semaphore; a slot is a buffered element.
type semaphore chan struct{}

// acquire takes a slot, waiting up to maxWait or until ctx ends. It returns
// how long it waited, or ErrBulkheadFull (wrapping ctx's error when that
// ended the wait). The uncontended path reads no clock and allocates
// nothing.
func (s semaphore) acquire(ctx context.Context, maxWait time.Duration) (time.Duration, error) {
	select {
	case s <- struct{}{}:
		return 0, nil
	default:
	}
	if maxWait <= 0 {
		return 0, ErrBulkheadFull
	}
	start := time.Now()
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case s <- struct{}{}:
		return time.Since(start), nil
	case <-timer.C:
		return 0, ErrBulkheadFull
	case <-ctx.Done():
		return 0, errors.Join(ErrBulkheadFull, ctx.Err())
	}
}

func (s semaphore) release() { <-s }
