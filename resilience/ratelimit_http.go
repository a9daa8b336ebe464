package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/ratelog"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// RateLimitConfig configures the rate-limit stages of the request path
// (RateLimitWithConfig). Limits with a zero Rate limit nothing, as a zero
// rate_limit.per_*_rpm key does.
type RateLimitConfig struct {
	// Store decides. Required; wrap a RedisStore in a FallbackStore so
	// that a Redis outage never fails a request.
	Store Store
	// Anonymous limits each client IP (reqinfo.Info.ClientIP, which the
	// service makes trusted-proxy aware) of requests that carry no
	// credentials.
	Anonymous Limit
	// User limits each authenticated user, keyed by subject.
	User Limit
	// Client limits each authenticated client or service, keyed by
	// subject.
	Client Limit
	// Routes overrides the per-caller limit on one route, keyed
	// "METHOD /route/template" (the matched route template). An
	// overridden route has its own budget per caller, apart from the
	// caller's class budget.
	Routes map[string]Limit
	// Global limits one route for all callers together, keyed like Routes.
	Global map[string]Limit
	// Cookie names the cookie that carries a bearer token for browser
	// clients, if authentication accepts one; a request carrying it counts
	// as credentialed, like one with an Authorization header.
	Cookie string
	// MeterProvider receives the decision and store-error counts; nil
	// records nothing.
	MeterProvider metric.MeterProvider
	// Logger receives store failures, at most one per 10 s; nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultRateLimitConfig holds the limits of the rate_limit.per_ip_rpm,
// per_user_rpm and per_client_rpm keys' defaults: 60, 600 and 1200
// requests a minute, each bursting to a minute's quota. It has no Store:
// RateLimit takes one.
var DefaultRateLimitConfig = RateLimitConfig{
	Anonymous: PerMinute(60),
	User:      PerMinute(600),
	Client:    PerMinute(1200),
}

// Validate reports every unusable limit and malformed route key of cfg,
// each as a *fielderr.Error naming the field ("User.Rate", "Routes").
func (cfg RateLimitConfig) Validate() error {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, fielderr.New("Store", "must be set"))
	}
	for field, l := range map[string]Limit{"Anonymous": cfg.Anonymous, "User": cfg.User, "Client": cfg.Client} {
		switch {
		case l.Rate < 0:
			errs = append(errs, fielderr.New(field+".Rate", "must not be negative, got %d", l.Rate))
		case !l.IsZero():
			errs = append(errs, fielderr.Prefix(field, l.Validate()))
		}
	}
	for field, m := range map[string]map[string]Limit{"Routes": cfg.Routes, "Global": cfg.Global} {
		for route, l := range m {
			if _, _, ok := splitRoute(route); !ok {
				errs = append(errs, fielderr.New(field, "%q is not \"METHOD /template\"", route))
			}
			if err := l.Validate(); !l.IsZero() && err != nil {
				errs = append(errs, fielderr.New(field, "%s: %v", route, err))
			}
		}
	}
	return errors.Join(errs...)
}

// limiter is the rate-limit stages' Echo-free core: it decides on the
// request, its route template and its client IP, writes the header fields
// and returns the 429 to answer with.
type limiter struct {
	cfg     RateLimitConfig
	logger  *slog.Logger
	metrics *rateLimitMetrics
	routes  map[string]map[string]*routePolicy // method → template → policy
	errLog  *ratelog.Limiter                   // store-error lines, at most one per logEvery
}

// routePolicy is what applies to one route beyond the class limits.
type routePolicy struct {
	override    Limit  // per-caller limit, zero when not overridden
	suffix      string // appended to per-caller keys when overridden
	global      Limit
	globalKey   string
	hasOverride bool
}

// newLimiter builds the stages' state; it panics on a config Validate
// rejects.
func newLimiter(cfg RateLimitConfig) *limiter {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: rate limit: %w", err))
	}
	lim := &limiter{cfg: cfg, logger: cfg.Logger, metrics: newRateLimitMetrics(cfg.MeterProvider),
		routes: map[string]map[string]*routePolicy{}, errLog: ratelog.New(logEvery)}
	if lim.logger == nil {
		lim.logger = slog.Default()
	}
	for route, l := range cfg.Routes {
		if !l.IsZero() {
			p := lim.policy(route)
			p.override, p.hasOverride, p.suffix = l, true, "|"+route
		}
	}
	for route, l := range cfg.Global {
		if !l.IsZero() {
			p := lim.policy(route)
			p.global, p.globalKey = l, "route:"+route
		}
	}
	return lim
}

// policy returns the policy of route ("METHOD /template"), made on first
// use.
func (lim *limiter) policy(route string) *routePolicy {
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

// splitRoute splits "METHOD /template".
func splitRoute(route string) (method, path string, ok bool) {
	method, path, ok = strings.Cut(route, " ")
	return method, path, ok && method != "" && strings.HasPrefix(path, "/")
}

// anonymous is the anonymous stage: it limits r per client IP unless r
// carries credentials or is a CORS preflight. It sets the header fields on
// h, the response's header, and returns the 429 to answer with, or nil.
// clientIP is asked only when the IP is needed.
func (lim *limiter) anonymous(r *http.Request, h http.Header, route string, clientIP func() string) error {
	if isPreflight(r) || lim.credentialed(r) {
		return nil
	}
	return lim.perCaller(r, h, route, lim.cfg.Anonymous, "ip", clientIP())
}

// principal is the principal stage: it limits the authenticated principal
// (or, for a credentialed request that stayed anonymous, the client IP),
// then applies the route's global limit.
func (lim *limiter) principal(r *http.Request, h http.Header, route string, clientIP func() string) error {
	if isPreflight(r) {
		return nil
	}
	var err error
	switch p := principalOf(r); {
	case p != nil && p.Kind == principal.User:
		err = lim.perCaller(r, h, route, lim.cfg.User, "user", p.Subject)
	case p != nil:
		err = lim.perCaller(r, h, route, lim.cfg.Client, "client", p.Subject)
	case lim.credentialed(r):
		err = lim.perCaller(r, h, route, lim.cfg.Anonymous, "ip", clientIP())
	}
	if err != nil {
		return err
	}
	if rp := lim.route(r.Method, route); rp != nil && !rp.global.IsZero() {
		return lim.check(r.Context(), h, route, rp.global, "global", rp.globalKey)
	}
	return nil
}

// perCaller applies the class limit (or the route's override) to one
// caller of kind ("ip", "user", "client") identified by id.
func (lim *limiter) perCaller(r *http.Request, h http.Header, route string, class Limit, kind, id string) error {
	l, suffix := class, ""
	if rp := lim.route(r.Method, route); rp != nil && rp.hasOverride {
		l, suffix = rp.override, rp.suffix
	}
	if l.IsZero() {
		return nil
	}
	return lim.check(r.Context(), h, route, l, kind, kind+":"+id+suffix)
}

// check asks the store, records the decision, sets the header fields, and
// returns the 429 when refused.
func (lim *limiter) check(ctx context.Context, h http.Header, route string, l Limit, kind, key string) error {
	res, err := lim.cfg.Store.Allow(ctx, key, l, 1)
	if err != nil {
		lim.storeFailed(ctx, err)
		return nil
	}
	lim.metrics.decision(route, kind, lim.cfg.Store.Name(), res.Allowed)
	h[keyRateLimitPolicy] = append(h[keyRateLimitPolicy], policyField(kind, l))
	h[keyRateLimit] = append(h[keyRateLimit], rateLimitField(kind, res))
	if res.Allowed {
		return nil
	}
	return problem.NewError(http.StatusTooManyRequests, "Too many requests.").
		WithHeader("Retry-After", fmt.Sprint(max(ceilSeconds(res.RetryAfter), 1)))
}

func (lim *limiter) route(method, template string) *routePolicy {
	return lim.routes[method][template]
}

// credentialed reports whether r carries credentials authentication would
// look at.
func (lim *limiter) credentialed(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	if lim.cfg.Cookie == "" {
		return false
	}
	ck, err := r.Cookie(lim.cfg.Cookie)
	return err == nil && ck.Value != ""
}

// storeFailed counts a store error and logs it at most once per logEvery.
func (lim *limiter) storeFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // the client left; nothing failed on our side
	}
	lim.metrics.storeError(ctx, lim.cfg.Store.Name())
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
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}
