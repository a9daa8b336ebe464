package resilience

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/ratelog"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

// RateLimitConfig configures the rate-limit stages of the request path.
// Limits with a zero Rate limit nothing.
type RateLimitConfig struct {
	// Store decides. Required; wrap a RedisStore in a FallbackStore so
	// that a Redis outage never fails a request.
	Store Store
	// Anonymous limits each client IP (c.RealIP(), which the service makes
	// trusted-proxy aware) of requests that carry no credentials.
	Anonymous Limit
	// User limits each authenticated user, keyed by subject.
	User Limit
	// Client limits each authenticated client or service, keyed by
	// subject.
	Client Limit
	// Routes overrides the per-caller limit on one route, keyed
	// "METHOD /route/template" (Echo's c.Path()). An overridden route has
	// its own budget per caller, apart from the caller's class budget.
	Routes map[string]Limit
	// Global limits one route for all callers together, keyed like Routes.
	Global map[string]Limit
	// Cookie names the cookie that carries a bearer token for browser
	// clients, if authentication accepts one; a request carrying it counts
	// as credentialed, like one with an Authorization header.
	Cookie string
	// Metrics counts decisions and store errors; nil counts nothing.
	Metrics *telemetry.RateLimitMetrics
	// Logger receives store failures, at most one per 10 s; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Validate reports every unusable limit and malformed route key of cfg.
func (cfg RateLimitConfig) Validate() error {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("rate limit: no store"))
	}
	check := func(name string, l Limit) {
		if !l.IsZero() {
			if err := l.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	check("anonymous", cfg.Anonymous)
	check("user", cfg.User)
	check("client", cfg.Client)
	for _, m := range []map[string]Limit{cfg.Routes, cfg.Global} {
		for route, l := range m {
			if _, _, ok := splitRoute(route); !ok {
				errs = append(errs, fmt.Errorf("rate limit: route %q is not \"METHOD /template\"", route))
			}
			check(route, l)
		}
	}
	return errors.Join(errs...)
}

// RateLimit returns the two rate-limit stages of the request path (DESIGN
// §4). Install both: anonymous in the RateLimit slot, before authentication,
// and principal right after authentication.
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
// RateLimit panics on a config Validate rejects: that is a wiring mistake
// found at start-up.
func RateLimit(cfg RateLimitConfig) (anonymous, principal echo.MiddlewareFunc) {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	lim := newLimiter(cfg)
	return lim.anonymousStage, lim.principalStage
}

// limiter holds the stages' prebuilt state.
type limiter struct {
	cfg    RateLimitConfig
	logger *slog.Logger
	routes map[string]map[string]*routePolicy // method → template → policy
	errLog *ratelog.Limiter                   // store-error lines, at most one per logEvery
}

// routePolicy is what applies to one route beyond the class limits.
type routePolicy struct {
	override    Limit  // per-caller limit, zero when not overridden
	suffix      string // appended to per-caller keys when overridden
	global      Limit
	globalKey   string
	hasOverride bool
}

func newLimiter(cfg RateLimitConfig) *limiter {
	lim := &limiter{cfg: cfg, logger: cfg.Logger, routes: map[string]map[string]*routePolicy{}, errLog: ratelog.New(logEvery)}
	if lim.logger == nil {
		lim.logger = slog.Default()
	}
	policy := func(route string) *routePolicy {
		method, path, _ := splitRoute(route)
		if lim.routes[method] == nil {
			lim.routes[method] = map[string]*routePolicy{}
		}
		p := lim.routes[method][path]
		if p == nil {
			p = &routePolicy{}
			lim.routes[method][path] = p
		}
		return p
	}
	for route, l := range cfg.Routes {
		if !l.IsZero() {
			method, path, _ := splitRoute(route)
			p := policy(route)
			p.override, p.hasOverride, p.suffix = l, true, "|"+method+" "+path
		}
	}
	for route, l := range cfg.Global {
		if !l.IsZero() {
			method, path, _ := splitRoute(route)
			p := policy(route)
			p.global, p.globalKey = l, "route:"+method+" "+path
		}
	}
	return lim
}

// splitRoute splits "METHOD /template".
func splitRoute(route string) (method, path string, ok bool) {
	method, path, ok = strings.Cut(route, " ")
	return method, path, ok && method != "" && strings.HasPrefix(path, "/")
}

func (lim *limiter) anonymousStage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if isPreflight(r) || lim.credentialed(r) {
			return next(c)
		}
		if err := lim.perCaller(c, lim.cfg.Anonymous, "ip", c.RealIP()); err != nil {
			return err
		}
		return next(c)
	}
}

func (lim *limiter) principalStage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if isPreflight(r) {
			return next(c)
		}
		var err error
		switch p := principalOf(r); {
		case p != nil && p.Kind == principal.User:
			err = lim.perCaller(c, lim.cfg.User, "user", p.Subject)
		case p != nil:
			err = lim.perCaller(c, lim.cfg.Client, "client", p.Subject)
		case lim.credentialed(r):
			err = lim.perCaller(c, lim.cfg.Anonymous, "ip", c.RealIP())
		}
		if err != nil {
			return err
		}
		if rp := lim.route(c); rp != nil && !rp.global.IsZero() {
			if err := lim.check(c, rp.global, "global", rp.globalKey); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// perCaller applies the class limit (or the route's override) to one
// caller of kind ("ip", "user", "client") identified by id.
func (lim *limiter) perCaller(c echo.Context, class Limit, kind, id string) error {
	l, suffix := class, ""
	if rp := lim.route(c); rp != nil && rp.hasOverride {
		l, suffix = rp.override, rp.suffix
	}
	if l.IsZero() {
		return nil
	}
	return lim.check(c, l, kind, kind+":"+id+suffix)
}

// check asks the store, records the decision, sets the header fields, and
// returns the 429 when refused.
func (lim *limiter) check(c echo.Context, l Limit, kind, key string) error {
	ctx := c.Request().Context()
	res, err := lim.cfg.Store.Allow(ctx, key, l, 1)
	if err != nil {
		lim.storeFailed(c, err)
		return nil
	}
	lim.cfg.Metrics.Decision(ctx, c.Path(), kind, lim.cfg.Store.Name(), res.Allowed)
	h := c.Response().Header()
	h.Add(HeaderRateLimitPolicy, policyField(kind, l))
	h.Add(HeaderRateLimit, rateLimitField(kind, res))
	if res.Allowed {
		return nil
	}
	return problem.NewError(http.StatusTooManyRequests, "Too many requests.").
		WithHeader(echo.HeaderRetryAfter, fmt.Sprint(max(ceilSeconds(res.RetryAfter), 1)))
}

func (lim *limiter) route(c echo.Context) *routePolicy {
	return lim.routes[c.Request().Method][c.Path()]
}

// credentialed reports whether r carries credentials authentication would
// look at.
func (lim *limiter) credentialed(r *http.Request) bool {
	if r.Header.Get(echo.HeaderAuthorization) != "" {
		return true
	}
	if lim.cfg.Cookie == "" {
		return false
	}
	ck, err := r.Cookie(lim.cfg.Cookie)
	return err == nil && ck.Value != ""
}

// storeFailed counts a store error and logs it at most once per logEvery.
func (lim *limiter) storeFailed(c echo.Context, err error) {
	ctx := c.Request().Context()
	if ctx.Err() != nil {
		return // the client left; nothing failed on our side
	}
	lim.cfg.Metrics.StoreError(ctx, lim.cfg.Store.Name())
	if ok, suppressed := lim.errLog.Allow(time.Now()); ok {
		lim.logger.WarnContext(ctx, "rate limit store failed; request let through",
			"store", lim.cfg.Store.Name(), "error", err, "suppressed", suppressed)
	}
}

// principalOf returns the authenticated principal, or nil.
func principalOf(r *http.Request) *principal.Principal {
	if info := reqinfo.FromContext(r.Context()); info != nil {
		p, _ := info.Principal.(*principal.Principal)
		return p
	}
	return nil
}

// isPreflight reports whether r is a CORS preflight, which the CORS stage
// answers and no budget should pay for.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
}
