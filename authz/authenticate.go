package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/ratelog"
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

// outageLogEvery bounds the ERROR lines of a revocation store outage. The
// store fails fast while it is down, so every request fails at once: at
// 1,000 requests a second a line each would be 10,000 lines in the
// interval, and one line with the count says the same. (The same interval
// as the rate limiter's store-error lines.)
const outageLogEvery = 10 * time.Second

// Response headers the stage sets.
const (
	headerWWWAuthenticate = "WWW-Authenticate"
	headerRetryAfter      = "Retry-After"
)

// WWW-Authenticate challenges (RFC 6750 §3): no error code when the request
// carried no token, invalid_token when it carried a bad one.
const (
	challengeMissing = `Bearer realm="api"`
	challengeInvalid = `Bearer realm="api", error="invalid_token"`
)

// AuthenticateConfig configures the Authenticate middleware.
type AuthenticateConfig struct {
	// Verifier checks tokens. Required.
	Verifier *Verifier
	// Rule returns the rule of a route, by method and route template
	// ("/api/v2/notes/:id"). nil protects every route.
	Rule func(method, route string) RouteRule
	// Cookie optionally names a cookie carrying the token, for browser
	// clients (auth.jwt.cookie); it must be an HTTP token. The
	// Authorization header wins when both are present.
	Cookie string
	// Logger receives the reason of each refusal; nil means slog.Default().
	Logger *slog.Logger
	// MeterProvider makes the metric counting outcomes (ok, missing,
	// invalid, unavailable); nil records nothing.
	MeterProvider metric.MeterProvider
}

// authenticator is the Echo-free core of the Authenticate stage.
type authenticator struct {
	verifier *Verifier
	rule     func(method, route string) RouteRule
	cookie   string
	logger   *slog.Logger
	metrics  *metrics
	outage   *ratelog.Limiter // "authentication unavailable" lines
	now      func() time.Time // for outage, replaced in tests
}

// Validate reports every problem with cfg, each as a *fielderr.Error naming
// its field (joined with errors.Join), or nil.
func (cfg AuthenticateConfig) Validate() error {
	var errs []error
	if cfg.Verifier == nil {
		errs = append(errs, fielderr.New("Verifier", "required"))
	}
	// A cookie name is an HTTP token (RFC 6265 §4.1.1); net/http checks
	// exactly that for a cookie with no other attributes.
	if cfg.Cookie != "" && (&http.Cookie{Name: cfg.Cookie}).Valid() != nil {
		errs = append(errs, fielderr.New("Cookie", "%q is not a valid cookie name", cfg.Cookie))
	}
	return errors.Join(errs...)
}

// newAuthenticator builds the core from cfg, filling its defaults. It
// panics when cfg.Validate fails, as Echo's middleware constructors do for
// unusable config: that is a wiring mistake found at start-up, never a
// request-time event.
func newAuthenticator(cfg AuthenticateConfig) *authenticator {
	if err := cfg.Validate(); err != nil {
		panic("authz: Authenticate: " + err.Error())
	}
	a := &authenticator{
		verifier: cfg.Verifier, rule: cfg.Rule, cookie: cfg.Cookie, logger: cfg.Logger,
		metrics: newMetrics(cfg.MeterProvider), outage: ratelog.New(outageLogEvery), now: time.Now,
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	return a
}

// authenticate decides r, a request to the route with template route. It
// returns the request the next stage is to see — r itself, its
// reqinfo.Info now holding the principal, or a copy whose context carries
// the principal when r has no Info — or the *problem.Error to answer with.
func (a *authenticator) authenticate(r *http.Request, route string) (*http.Request, error) {
	if a.rule != nil && a.rule(r.Method, route).Public {
		return r, nil
	}
	ctx := r.Context()
	token, found := bearerToken(r, a.cookie)
	if !found {
		a.metrics.authentication("missing")
		return nil, problem.NewError(http.StatusUnauthorized, invalidTokenDetail).WithHeader(headerWWWAuthenticate, challengeMissing)
	}
	p, err := a.verifier.Verify(ctx, token)
	switch {
	case errors.Is(err, ErrRevocationUnavailable):
		a.metrics.authentication("unavailable")
		if ok, suppressed := a.outage.Allow(a.now()); ok {
			a.logger.ErrorContext(ctx, "authentication unavailable", "error", err, "suppressed", suppressed)
		}
		pe := problem.NewError(http.StatusServiceUnavailable, unavailableDetail).WithHeader(headerRetryAfter, unavailableRetryAfter)
		pe.Err = err
		return nil, pe
	case err != nil:
		a.metrics.authentication("invalid")
		a.logger.InfoContext(ctx, "authentication failed", "reason", err.Error())
		pe := problem.NewError(http.StatusUnauthorized, invalidTokenDetail).WithHeader(headerWWWAuthenticate, challengeInvalid)
		pe.Err = err
		return nil, pe
	}
	a.metrics.authentication("ok")
	if info := reqinfo.FromContext(ctx); info != nil {
		info.Principal = p
		return r, nil
	}
	return r.WithContext(NewContext(ctx, p)), nil
}

// bearerToken extracts the token: from an Authorization header with the
// Bearer scheme (case-insensitive, RFC 6750 §2.1), else from the cookie. An
// Authorization header with another scheme counts as no token. A Bearer
// header with an empty token is found (and then refused as invalid).
func bearerToken(r *http.Request, cookie string) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
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
