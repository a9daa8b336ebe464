package resilience

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/problem"
)

// SheddingConfig configures LoadSheddingWithConfig. None of its numbers can
// mean "off", so the constructors give zero fields the values of
// DefaultSheddingConfig.
type SheddingConfig struct {
	// InitialLimit is the concurrency limit before any latency is known.
	InitialLimit int
	// MinLimit is the floor of the limit: requests the service always
	// admits, however slow it has become.
	MinLimit int
	// MaxLimit is the ceiling of the limit.
	MaxLimit int
	// Window is the shortest span of requests that adjusts the limit once.
	// Shorter windows react faster and are noisier.
	Window time.Duration
	// MeterProvider receives the limit and refusals; nil records nothing.
	MeterProvider metric.MeterProvider
	// Now is the clock latency is measured with; nil means time.Now.
	Now func() time.Time
}

// DefaultSheddingConfig is what zero fields of SheddingConfig take, the
// defaults of the resilience.shedding.* keys (Window has no key).
var DefaultSheddingConfig = SheddingConfig{
	InitialLimit: 100,
	MinLimit:     10,
	MaxLimit:     1000,
	Window:       100 * time.Millisecond,
}

// Validate reports limits out of order and a non-positive window, each as a
// *fielderr.Error naming the field. The three limits are judged together
// and reported on InitialLimit, the one between the other two.
func (cfg SheddingConfig) Validate() error {
	var errs []error
	if cfg.MinLimit < 1 || cfg.MinLimit > cfg.InitialLimit || cfg.InitialLimit > cfg.MaxLimit {
		errs = append(errs, fielderr.New("InitialLimit", "needs 1 <= the minimum limit (%d) <= the initial limit (%d) <= the maximum limit (%d)",
			cfg.MinLimit, cfg.InitialLimit, cfg.MaxLimit))
	}
	errs = append(errs, positive("Window", cfg.Window))
	return errors.Join(errs...)
}

// withDefaults gives zero fields their defaults. A zero bound takes the
// default clamped to the other limits, so that a config setting only
// InitialLimit stays in order.
func (cfg SheddingConfig) withDefaults() SheddingConfig {
	d := DefaultSheddingConfig
	if cfg.InitialLimit == 0 {
		cfg.InitialLimit = d.InitialLimit
	}
	if cfg.MinLimit == 0 {
		cfg.MinLimit = min(d.MinLimit, cfg.InitialLimit)
	}
	if cfg.MaxLimit == 0 {
		cfg.MaxLimit = max(d.MaxLimit, cfg.InitialLimit)
	}
	if cfg.Window == 0 {
		cfg.Window = d.Window
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

const shedDetail = "The service is overloaded; retry later."

// shedder is the load-shedding stage's Echo-free core: the requests in
// flight, and the limit the gradient last computed, read without a lock on
// the way in.
type shedder struct {
	now      func() time.Time
	metrics  *sheddingMetrics
	g        gradientLimit
	inflight atomic.Int64
	limit    atomic.Int64
}

// newShedder gives cfg's zero fields their defaults and builds the
// shedder; it panics on a config Validate rejects.
func newShedder(cfg SheddingConfig) *shedder {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: load shedding: %w", err))
	}
	s := &shedder{
		now:     cfg.Now,
		metrics: newSheddingMetrics(cfg.MeterProvider),
		g: gradientLimit{
			window:   cfg.Window,
			minLimit: float64(cfg.MinLimit), maxLimit: float64(cfg.MaxLimit),
			estimate: float64(cfg.InitialLimit),
		},
	}
	s.limit.Store(int64(s.g.estimate))
	return s
}

// admission is one admitted request: how many were in flight with it and
// when it started.
type admission struct {
	inflight int64
	start    time.Time
}

// enter counts a request to route in flight and admits it, or refuses it
// with the 503 problem to answer with while more are in flight than the
// limit. Every call, admitted or not, is paired with one leave.
func (s *shedder) enter(ctx context.Context, route string) (admission, error) {
	n := s.inflight.Add(1)
	if n > s.limit.Load() {
		s.metrics.rejected(ctx, route)
		return admission{}, problem.NewError(http.StatusServiceUnavailable, shedDetail).WithHeader("Retry-After", "1")
	}
	return admission{inflight: n, start: s.now()}, nil
}

// finished feeds an admitted request's latency to the gradient, which may
// move the limit. A request that panicked is not fed: its latency says
// nothing about capacity.
func (s *shedder) finished(ctx context.Context, a admission) {
	end := s.now()
	if limit, changed := s.g.sample(end.Sub(a.start), int(a.inflight), end); changed {
		s.limit.Store(int64(limit))
		s.metrics.setLimit(ctx, limit)
	}
}

// leave takes a request out of flight.
func (s *shedder) leave() { s.inflight.Add(-1) }
