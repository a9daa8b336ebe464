package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// BreakerConfig configures CircuitBreakerWithConfig. Its Validate is
// BreakerSettings', promoted.
type BreakerConfig struct {
	BreakerSettings
	// Group names the route group of a request from its method and route
	// template; each group has its own breaker. It must return one of a
	// fixed set of names. Nil puts every route in DefaultGroup.
	Group func(method, route string) string
	// MeterProvider receives state changes and refusals; nil records
	// nothing.
	MeterProvider metric.MeterProvider
	// Logger receives state changes, at WARN when a breaker opens.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultBreakerConfig is the configuration CircuitBreaker uses: one
// breaker for the whole service with DefaultBreakerSettings.
var DefaultBreakerConfig = BreakerConfig{BreakerSettings: DefaultBreakerSettings}

// breakerOpenDetail is the client-visible detail of a refused request.
const breakerOpenDetail = "The service is failing on this route and is not taking requests for now; retry later."

// inboundBreakers is the inbound circuit breaker's Echo-free core: one
// breaker per route group, and the rules that judge a finished request.
type inboundBreakers struct {
	group    func(method, route string) string
	breakers *groupSet[*breaker]
}

// newInboundBreakers gives cfg's zero settings their defaults and builds
// the breakers' state; it panics on settings Validate rejects.
func newInboundBreakers(cfg BreakerConfig) *inboundBreakers {
	cfg.BreakerSettings = cfg.BreakerSettings.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: circuit breaker: %w", err))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	metrics := newBreakerMetrics(cfg.MeterProvider)
	return &inboundBreakers{
		group: groupOf(cfg.Group),
		breakers: newGroupSet(func(name string) *breaker {
			return newBreaker(name, breakerInbound, cfg.BreakerSettings, metrics, cfg.Logger)
		}),
	}
}

// enter asks the breaker of r's group (by its route template) for r. It
// returns done, to be called once with r's outcome (see judge), or the 503
// problem to answer with while the breaker refuses.
func (ib *inboundBreakers) enter(r *http.Request, route string) (done func(outcome error), refusal error) {
	b := ib.breakers.get(ib.group(r.Method, route))
	done, err := b.allow()
	if err != nil {
		b.metrics.rejected(r.Context(), b.name, breakerInbound)
		return nil, breakerRefusal(b.retryAfter(err), err)
	}
	return done, nil
}

// breakerRefusal is the 503 problem a refused request gets.
func breakerRefusal(wait time.Duration, cause error) *problem.Error {
	secs := int64((wait + time.Second - 1) / time.Second)
	pe := problem.NewError(http.StatusServiceUnavailable, breakerOpenDetail).
		WithHeader("Retry-After", strconv.FormatInt(secs, 10))
	pe.Err = cause
	return pe
}

// clientGone reports whether the handler's error says only that the client
// went away: the request's context was cancelled and err is that. Such an
// error is not rendered (there is no one to send it to) and the request is
// excluded.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && ctx.Err() != nil
}

// judge classifies a finished request for the breaker by the status that
// was sent — the handler's own, or the error handler's rendering of its
// error — and its context: errBreakerExcluded when the client caused the
// failure (clientCaused), errBreakerFailure for a 5xx or an expired
// deadline, nil (a success) otherwise.
func judge(ctx context.Context, status int) error {
	switch {
	case clientCaused(ctx):
		return errBreakerExcluded
	case status >= 500 || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errBreakerFailure
	}
	return nil
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
