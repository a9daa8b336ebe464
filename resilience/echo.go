package resilience

// This is the one file of package resilience that imports Echo. Every stage
// decides in an Echo-free core, on the *http.Request, its route template
// and client IP, the response's header and the request's reqinfo.Info, and
// answers with a *problem.Error; the constructors below adapt each core to
// Echo's middleware dialect (X(v) / XWithConfig(cfg)), so that a move off
// Echo v4 rewrites this file alone.

import (
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/chain"
)

// RateLimit returns the two rate-limit stages with DefaultRateLimitConfig's
// limits, deciding with store. See RateLimitWithConfig.
func RateLimit(store Store) (anonymous, principal echo.MiddlewareFunc) {
	cfg := DefaultRateLimitConfig
	cfg.Store = store
	return RateLimitWithConfig(cfg)
}

// RateLimitWithConfig returns the two rate-limit stages of the request path
// (DESIGN §4). Install both: anonymous in the RateLimit slot, before
// authentication, and principal right after authentication.
//
// The anonymous stage limits requests without credentials (no Authorization
// header, no Cookie) per client IP. Requests with credentials pass it
// uncounted: behind one NAT or proxy many users share an address, and
// counting their authenticated traffic against a per-IP budget would
// throttle them together. The cost is that a flood of bogus tokens reaches
// the authentication stage; it is refused there with a 401 before any
// handler runs, and the load shedder bounds it.
//
// The principal stage limits authenticated principals per subject, at User
// for users and Client for clients and services. A request that carried
// credentials yet is anonymous here (a public route ignores tokens) is
// limited per IP now, so credentials never buy an unlimited pass. Then it
// applies the route's global limit, so a caller over its own limit or a
// rejected token never spends the route's shared budget.
//
// Both stages skip CORS preflights, set the RateLimit-Policy and RateLimit
// fields of draft-ietf-httpapi-ratelimit-headers-09 on every response of a
// limited route (one list member per applied limit, named "ip", "user",
// "client" or "global"), and refuse with a 429 problem carrying
// Retry-After. A store error lets the request through, counted and logged:
// rate limiting must never be why a request fails.
//
// RateLimitWithConfig panics on a config Validate rejects: that is a wiring
// mistake found at start-up.
func RateLimitWithConfig(cfg RateLimitConfig) (anonymous, principal echo.MiddlewareFunc) {
	lim := newLimiter(cfg)
	anonymous = func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := lim.anonymous(c.Request(), c.Response().Header(), chain.RuleRoute(c), func() string { return chain.ClientIP(c) }); err != nil {
				return err
			}
			return next(c)
		}
	}
	principal = func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := lim.principal(c.Request(), c.Response().Header(), chain.RuleRoute(c), func() string { return chain.ClientIP(c) }); err != nil {
				return err
			}
			return next(c)
		}
	}
	return anonymous, principal
}

// CircuitBreaker returns the inbound circuit breaker with
// DefaultBreakerConfig: one breaker for the whole service. See
// CircuitBreakerWithConfig.
func CircuitBreaker() echo.MiddlewareFunc {
	return CircuitBreakerWithConfig(DefaultBreakerConfig)
}

// CircuitBreakerWithConfig returns middleware that runs a circuit breaker
// per route group (sony/gobreaker) around the handler. A request fails when
// it renders a 5xx — errors returned by the handler are classified by the
// status the error handler will give them — when it outlives its deadline,
// or when the handler panics; 4xx responses are successes, since the
// service answered correctly. Requests the client caused to fail count as
// neither, whatever was rendered: those the body-limit or timeout stage
// marked as the client's fault in the request's reqinfo.Info (a body
// malformed, cut short, too large, or too slow to arrive), and those whose
// context was cancelled, not expired (the client went away). Once
// MinRequests have been judged within Interval and FailureRatio of them
// failed, the breaker opens: requests get a 503 problem with Retry-After
// (the seconds until it turns half-open) without reaching the handler.
// After OpenTimeout, HalfOpenRequests probes go through; as many successes
// close it, a failure opens it again.
//
// It belongs in middleware.Stages.CircuitBreaker, inside the timeout stage,
// so a handler that returns its context's error after the deadline counts
// as a failure. Zero settings take DefaultBreakerSettings'; it panics on
// settings Validate rejects.
func CircuitBreakerWithConfig(cfg BreakerConfig) echo.MiddlewareFunc {
	ib := newInboundBreakers(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			done, err := ib.enter(c.Request(), chain.RuleRoute(c))
			if err != nil {
				return err
			}
			finished := false
			defer func() {
				if !finished { // the handler panicked: recover will send a 500
					done(errBreakerFailure)
				}
			}()
			err = next(c)
			finished = true
			ctx := c.Request().Context()
			if err != nil && !c.Response().Committed {
				if clientGone(ctx, err) {
					done(errBreakerExcluded)
					return err
				}
				// Rendered here through c.Error — the service's one error
				// handler, as the access log and telemetry stages do — so
				// the status judged is the status sent, with no second copy
				// of the error-to-status mapping.
				c.Error(err)
				err = nil
			}
			done(judge(ctx, c.Response().Status))
			return err
		}
	}
}

// Bulkhead returns a bulkhead of maxConcurrent requests per route group
// with DefaultBulkheadConfig's wait, every route in DefaultGroup. See
// BulkheadWithConfig.
func Bulkhead(maxConcurrent int) echo.MiddlewareFunc {
	cfg := DefaultBulkheadConfig
	cfg.MaxConcurrent = maxConcurrent
	return BulkheadWithConfig(cfg)
}

// BulkheadWithConfig returns middleware that caps the concurrent requests
// of each route group — Groups sizes some, MaxConcurrent the rest — so one
// slow group cannot take every worker and starve the others. A request
// that finds its group full waits up to MaxWait (and no longer than its own
// deadline) for a slot, then gets a 503 problem with Retry-After: 1. With
// no group bounded it returns its next handler unchanged. It panics on a
// config Validate rejects.
func BulkheadWithConfig(cfg BulkheadConfig) echo.MiddlewareFunc {
	return bulkheadStage(newBulkheads(cfg))
}

// LoadShedding returns adaptive load shedding with DefaultSheddingConfig.
// See LoadSheddingWithConfig.
func LoadShedding() echo.MiddlewareFunc {
	return LoadSheddingWithConfig(DefaultSheddingConfig)
}

// LoadSheddingWithConfig returns middleware that refuses requests early,
// with a 503 problem and Retry-After: 1, while more requests are in flight
// than the service's estimated capacity. The capacity is a concurrency
// limit that adapts to observed latency (see gradientLimit for the
// formula): when latency rises above its long-term baseline requests are
// queueing somewhere, so the limit shrinks; when latency is back near the
// baseline and the limit is being used, it grows again.
//
// It is one limit for the whole service, the process's capacity; it goes
// in middleware.Stages.LoadShedding, or use Admission to put a bulkhead
// behind it in the same slot. Zero fields take DefaultSheddingConfig's; it
// panics on a config Validate rejects.
func LoadSheddingWithConfig(cfg SheddingConfig) echo.MiddlewareFunc {
	return sheddingStage(newShedder(cfg))
}

// Admission returns the stage of middleware.Stages.LoadShedding: load
// shedding (when cfg.Shedding is set), then the route group's bulkhead
// (when any group is bounded), as LoadSheddingWithConfig and
// BulkheadWithConfig describe. With neither it returns its next handler
// unchanged. Zero shedding fields take DefaultSheddingConfig's; it panics
// on a config Validate then rejects.
func Admission(cfg AdmissionConfig) echo.MiddlewareFunc {
	bulkhead := bulkheadStage(newBulkheads(cfg.Bulkhead))
	if cfg.Shedding == nil {
		return bulkhead
	}
	shed := sheddingStage(newShedder(*cfg.Shedding))
	return func(next echo.HandlerFunc) echo.HandlerFunc { return shed(bulkhead(next)) }
}

// bulkheadStage adapts b; a nil b bounds nothing and adds nothing.
func bulkheadStage(b *bulkheads) echo.MiddlewareFunc {
	if b == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			ctx := r.Context()
			s, err := b.enter(ctx, r.Method, chain.RuleRoute(c))
			if err != nil {
				return err
			}
			defer b.leave(ctx, s)
			return next(c)
		}
	}
}

// sheddingStage adapts s.
func sheddingStage(s *shedder) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			defer s.leave()
			a, err := s.enter(ctx, chain.RuleRoute(c))
			if err != nil {
				return err
			}
			err = next(c)
			s.finished(ctx, a)
			return err
		}
	}
}
