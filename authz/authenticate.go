package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// Client-visible text of authentication failures. It is the same for every
// reason so that a client cannot probe which check a token fails.
const (
	invalidTokenDetail = "The access token is missing or invalid."
	unavailableDetail  = "Authentication is temporarily unavailable."
	// unavailableRetryAfter is the Retry-After, in seconds, sent with 503
	// when the revocation store is down.
	unavailableRetryAfter = "5"
)

// WWW-Authenticate challenges (RFC 6750 §3): no error code when the request
// carried no token, invalid_token when it carried a bad one.
const (
	challengeMissing = `Bearer realm="api"`
	challengeInvalid = `Bearer realm="api", error="invalid_token"`
)

// AuthenticateConfig configures the Authenticate middleware.
type AuthenticateConfig struct {
	// Verifier checks tokens. Required: Authenticate panics without one,
	// as Echo's middleware constructors do for unusable config, because it
	// is a wiring mistake found at start-up, never a request-time event.
	Verifier *Verifier
	// Rule returns the rule of a route, by method and route template
	// (c.Path()). nil protects every route.
	Rule func(method, route string) RouteRule
	// Cookie optionally names a cookie carrying the token, for browser
	// clients. The Authorization header wins when both are present.
	Cookie string
	// Logger receives the reason of each refusal; nil means slog.Default().
	Logger *slog.Logger
	// MeterProvider makes the metric counting outcomes (ok, missing,
	// invalid, unavailable); nil records nothing.
	MeterProvider metric.MeterProvider
}

// Authenticate returns the authentication stage of the request path. On a
// protected route it requires a valid bearer token (Authorization: Bearer,
// or else the configured cookie) and stores its Principal for FromContext;
// without one it returns a 401 *problem.Error carrying a WWW-Authenticate
// challenge, and with a revocation store that cannot answer a 503 with
// Retry-After — never a pass. Errors are rendered by the service's error
// handler. The client is told only that the token is missing or invalid;
// the reason is logged with the request's context.
//
// Public routes pass through anonymous, and any token they carry is
// ignored, not verified: a stale token in a browser must not break a page
// that needs none, and a public handler never sees a half-trusted
// principal.
func Authenticate(cfg AuthenticateConfig) echo.MiddlewareFunc {
	if cfg.Verifier == nil {
		panic("authz: Authenticate needs a Verifier")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	metrics := newMetrics(cfg.MeterProvider)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if cfg.Rule != nil && cfg.Rule(r.Method, c.Path()).Public {
				return next(c)
			}
			ctx := r.Context()
			token, found := bearerToken(r, cfg.Cookie)
			if !found {
				metrics.authentication(ctx, "missing")
				return problem.NewError(http.StatusUnauthorized, invalidTokenDetail).WithHeader(echo.HeaderWWWAuthenticate, challengeMissing)
			}
			p, err := cfg.Verifier.Verify(ctx, token)
			switch {
			case errors.Is(err, ErrRevocationUnavailable):
				metrics.authentication(ctx, "unavailable")
				logger.ErrorContext(ctx, "authentication unavailable", "error", err)
				pe := problem.NewError(http.StatusServiceUnavailable, unavailableDetail).WithHeader(echo.HeaderRetryAfter, unavailableRetryAfter)
				pe.Err = err
				return pe
			case err != nil:
				metrics.authentication(ctx, "invalid")
				logger.InfoContext(ctx, "authentication failed", "reason", err.Error())
				pe := problem.NewError(http.StatusUnauthorized, invalidTokenDetail).WithHeader(echo.HeaderWWWAuthenticate, challengeInvalid)
				pe.Err = err
				return pe
			}
			metrics.authentication(ctx, "ok")
			if info := reqinfo.FromContext(ctx); info != nil {
				info.Principal = p
			} else {
				c.SetRequest(r.WithContext(NewContext(ctx, p)))
			}
			return next(c)
		}
	}
}

// bearerToken extracts the token: from an Authorization header with the
// Bearer scheme (case-insensitive, RFC 6750 §2.1), else from the cookie. An
// Authorization header with another scheme counts as no token. A Bearer
// header with an empty token is found (and then refused as invalid).
func bearerToken(r *http.Request, cookie string) (string, bool) {
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token), true
		}
	}
	if cookie != "" {
		if ck, err := r.Cookie(cookie); err == nil && ck.Value != "" {
			return ck.Value, true
		}
	}
	return "", false
}
