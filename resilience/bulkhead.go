package resilience

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/problem"
)

// BulkheadConfig configures BulkheadWithConfig: a bulkhead per route group.
type BulkheadConfig struct {
	// MaxConcurrent is how many requests of one route group may run at
	// once, for every group Groups does not size. Zero means no bulkhead
	// for them.
	MaxConcurrent int
	// MaxWait is how long a request may queue for a slot before it is
	// refused; the request's own deadline bounds it too. Zero refuses at
	// once when the group is full.
	MaxWait time.Duration
	// Groups sizes single groups, overriding MaxConcurrent: group name →
	// requests at once. Zero means no bulkhead for that group.
	Groups map[string]int
	// Group names the route group of a request from its method and route
	// template; each group has its own slots. It must return one of a fixed
	// set of names. Nil puts every route in DefaultGroup.
	Group func(method, route string) string
	// MeterProvider receives waits, occupancy and refusals; nil records
	// nothing.
	MeterProvider metric.MeterProvider
}

// DefaultBulkheadConfig is the configuration Bulkhead starts from, the
// defaults of the resilience.bulkhead.* keys: no group bounded, and a
// request waits up to 100 ms for a slot of a bounded one.
var DefaultBulkheadConfig = BulkheadConfig{MaxWait: 100 * time.Millisecond}

// Validate reports every negative size or wait and every unnamed group,
// each as a *fielderr.Error naming the field.
func (cfg BulkheadConfig) Validate() error {
	errs := []error{notNegative("MaxConcurrent", cfg.MaxConcurrent), notNegative("MaxWait", cfg.MaxWait)}
	for name, n := range cfg.Groups {
		switch {
		case name == "":
			errs = append(errs, fielderr.New("Groups", "a group has no name"))
		case n < 0:
			errs = append(errs, fielderr.New("Groups", "%s: must not be negative, got %d", name, n))
		}
	}
	return errors.Join(errs...)
}

// bounded reports whether any group has a bulkhead.
func (cfg BulkheadConfig) bounded() bool {
	if cfg.MaxConcurrent > 0 {
		return true
	}
	for _, n := range cfg.Groups {
		if n > 0 {
			return true
		}
	}
	return false
}

// ErrBulkheadFull is the cause of a request or call a full bulkhead refused.
var ErrBulkheadFull = errors.New("resilience: bulkhead full")

const bulkheadFullDetail = "The service is at capacity on this route; retry later."

// bulkheads is the bulkhead stage's Echo-free core: the slots of every
// route group, sized by Groups or MaxConcurrent, made on first use.
type bulkheads struct {
	group   func(method, route string) string
	maxWait time.Duration
	slots   *groupSet[semaphore] // a nil semaphore: the group is not bounded
	metrics *bulkheadMetrics
}

// newBulkheads builds the bulkheads of cfg, or returns nil when no group
// is bounded; it panics on a config Validate rejects.
func newBulkheads(cfg BulkheadConfig) *bulkheads {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: bulkhead: %w", err))
	}
	if !cfg.bounded() {
		return nil
	}
	sizes := make(map[string]int, len(cfg.Groups))
	for name, n := range cfg.Groups {
		sizes[name] = n
	}
	return &bulkheads{
		group:   groupOf(cfg.Group),
		maxWait: cfg.MaxWait,
		metrics: newBulkheadMetrics(cfg.MeterProvider),
		slots: newGroupSet(func(name string) semaphore {
			n, ok := sizes[name]
			if !ok {
				n = cfg.MaxConcurrent
			}
			if n <= 0 {
				return nil
			}
			return make(semaphore, n)
		}),
	}
}

// slot is a slot a request holds, to give back with leave.
type slot struct {
	sem   semaphore // nil: the group is not bounded, nothing to give back
	group string
}

// enter takes a slot of the request's group (by method and route
// template), waiting up to MaxWait and no longer than ctx. It returns the
// slot, or the 503 problem to answer with when the group stays full.
func (b *bulkheads) enter(ctx context.Context, method, route string) (slot, error) {
	name := b.group(method, route)
	sem := b.slots.get(name)
	if sem == nil {
		return slot{}, nil
	}
	wait, err := sem.acquire(ctx, b.maxWait)
	if err != nil {
		b.metrics.rejected(ctx, name)
		pe := problem.NewError(http.StatusServiceUnavailable, bulkheadFullDetail).WithHeader("Retry-After", "1")
		pe.Err = err
		return slot{}, pe
	}
	b.metrics.acquired(ctx, name, wait)
	return slot{sem, name}, nil
}

// leave gives s back.
func (b *bulkheads) leave(ctx context.Context, s slot) {
	if s.sem != nil {
		s.sem.release()
		b.metrics.released(s.group)
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
