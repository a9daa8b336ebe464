package resilience

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

// SheddingConfig configures LoadShedding. Zero fields take the values of
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
	// Metrics records the limit and refusals; nil records nothing.
	Metrics *telemetry.SheddingMetrics
	// Now is the clock latency is measured with; nil means time.Now.
	Now func() time.Time
}

// DefaultSheddingConfig is what zero fields of SheddingConfig take.
var DefaultSheddingConfig = SheddingConfig{
	InitialLimit: 100,
	MinLimit:     10,
	MaxLimit:     1000,
	Window:       100 * time.Millisecond,
}

const shedDetail = "The service is overloaded; retry later."

// LoadShedding returns middleware that refuses requests early, with a 503
// problem and Retry-After: 1, while more requests are in flight than the
// service's estimated capacity. The capacity is a concurrency limit that
// adapts to observed latency (see gradientLimit for the formula): when
// latency rises above its long-term baseline requests are queueing
// somewhere, so the limit shrinks; when latency is back near the baseline
// and the limit is being used, it grows again.
//
// It is one limit for the whole service, the process's capacity; it goes
// in middleware.Stages.LoadShedding.
func LoadShedding(cfg SheddingConfig) echo.MiddlewareFunc {
	d := DefaultSheddingConfig
	if cfg.InitialLimit <= 0 {
		cfg.InitialLimit = d.InitialLimit
	}
	if cfg.MinLimit <= 0 {
		cfg.MinLimit = min(d.MinLimit, cfg.InitialLimit)
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = max(d.MaxLimit, cfg.InitialLimit)
	}
	if cfg.Window <= 0 {
		cfg.Window = d.Window
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &shedder{
		cfg: cfg,
		g: gradientLimit{
			window:   cfg.Window,
			minLimit: float64(cfg.MinLimit), maxLimit: float64(cfg.MaxLimit),
			estimate: float64(min(max(cfg.InitialLimit, cfg.MinLimit), cfg.MaxLimit)),
		},
	}
	s.limit.Store(int64(s.g.estimate))
	return s.middleware
}

// shedder is LoadShedding's state: the requests in flight, and the limit
// the gradient last computed, read without a lock on the way in.
type shedder struct {
	cfg      SheddingConfig
	g        gradientLimit
	inflight atomic.Int64
	limit    atomic.Int64
}

func (s *shedder) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n := s.inflight.Add(1)
		defer s.inflight.Add(-1)
		ctx := c.Request().Context()
		if n > s.limit.Load() {
			s.cfg.Metrics.Rejected(ctx, c.Path())
			return problem.NewError(http.StatusServiceUnavailable, shedDetail).WithHeader("Retry-After", "1")
		}
		start := s.cfg.Now()
		err := next(c)
		end := s.cfg.Now()
		if limit, changed := s.g.sample(end.Sub(start), int(n), end); changed {
			s.limit.Store(int64(limit))
			s.cfg.Metrics.Limit(ctx, limit)
		}
		return err
	}
}
