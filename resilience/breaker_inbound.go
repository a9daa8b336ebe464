package resilience

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

// BreakerConfig configures CircuitBreaker.
type BreakerConfig struct {
	BreakerSettings
	// Group names the route group of a request from its method and route
	// template; each group has its own breaker. It must return one of a
	// fixed set of names. Nil puts every route in DefaultGroup.
	Group func(method, route string) string
	// Metrics records state changes and refusals; nil records nothing.
	Metrics *telemetry.BreakerMetrics
	// Logger receives state changes, at WARN when a breaker opens.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// breakerOpenDetail is the client-visible detail of a refused request.
const breakerOpenDetail = "The service is failing on this route and is not taking requests for now; retry later."

// CircuitBreaker returns middleware that runs a circuit breaker per route
// group (sony/gobreaker) around the handler. A request fails when it
// renders a 5xx — errors returned by the handler are classified by the
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
// as a failure.
func CircuitBreaker(cfg BreakerConfig) echo.MiddlewareFunc {
	cfg.BreakerSettings = cfg.BreakerSettings.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	group := groupOf(cfg.Group)
	breakers := newGroupSet(func(name string) *breaker {
		return newBreaker(name, breakerInbound, cfg.BreakerSettings, cfg.Metrics, cfg.Logger)
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			b := breakers.get(group(r.Method, c.Path()))
			done, err := b.allow()
			if err != nil {
				cfg.Metrics.Rejected(r.Context(), b.name, breakerInbound)
				return breakerRefusal(b.retryAfter(err), err)
			}
			finished := false
			defer func() {
				if !finished { // the handler panicked: recover will send a 500
					done(errBreakerFailure)
				}
			}()
			err = next(c)
			finished = true
			outcome, rendered := inboundOutcome(c, err)
			done(outcome)
			if rendered {
				return nil
			}
			return err
		}
	}
}

// breakerRefusal is the 503 problem a refused request gets.
func breakerRefusal(wait time.Duration, cause error) *problem.Error {
	secs := int64((wait + time.Second - 1) / time.Second)
	pe := problem.NewError(http.StatusServiceUnavailable, breakerOpenDetail).
		WithHeader("Retry-After", strconv.FormatInt(secs, 10))
	pe.Err = cause
	return pe
}

// inboundOutcome classifies a finished request for the breaker. An error
// from the handler is rendered here through c.Error — the service's one
// error handler, as the access log and telemetry stages do — so the status
// judged is the status sent, with no second copy of the error-to-status
// mapping; rendered reports that the error was consumed.
func inboundOutcome(c echo.Context, err error) (outcome error, rendered bool) {
	ctx := c.Request().Context()
	res := c.Response()
	if err != nil && !res.Committed {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return errBreakerExcluded, false // the client has gone
		}
		c.Error(err)
		rendered = true
	}
	switch {
	case clientCaused(ctx):
		return errBreakerExcluded, rendered
	case res.Status >= 500 || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errBreakerFailure, rendered
	}
	return nil, rendered
}

// clientCaused reports whether the client, not the service, decided how the
// request ended, so that its outcome says nothing about the route's health:
// the body-limit or timeout stage marked it as the client's fault (a body
// malformed, cut short, too large or too slow), or its context was cancelled
// rather than expired (the client went away). Without these a handler that
// turns such a failure into a 500 of its own would let anyone open the
// breaker with a few dozen bad requests.
func clientCaused(ctx context.Context) bool {
	return reqinfo.FromContext(ctx).ClientFault() || errors.Is(ctx.Err(), context.Canceled)
}
