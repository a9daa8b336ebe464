package service

import (
	"net/http"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/resilience"
)

// otherGroup is the resilience group of requests no API route matched, so
// that the set of groups stays the fixed set the API declares.
const otherGroup = "other"

// resiliencePart fills the rate-limit, admission (shedding, bulkheads) and
// circuit-breaker stages from [rate_limit] and [resilience], and makes
// svc.Client.
type resiliencePart struct{}

// rateLimitKeys maps the RateLimitConfig and FallbackConfig fields whose
// names are not their keys.
var rateLimitKeys = map[string]string{
	"Anonymous.Rate":    "rate_limit.per_ip_rpm",
	"User.Rate":         "rate_limit.per_user_rpm",
	"Client.Rate":       "rate_limit.per_client_rpm",
	"Policy":            "rate_limit.redis_failure",
	"ExpectedInstances": "rate_limit.expected_instances",
	"Store":             "-",
	"Local":             "-",
	"ProbeInterval":     "-", // redis.probe_interval, checked by config
}

func (resiliencePart) check(c *checker) {
	rl, r := c.cfg.RateLimit, c.cfg.Resilience
	c.fields("rate_limit", rateLimitConfig(rl).Validate(), rateLimitKeys)
	fb := resilience.FallbackConfig{Policy: resilience.FailurePolicy(rl.RedisFailure), ExpectedInstances: rl.ExpectedInstances}
	c.fields("rate_limit", fb.Validate(), rateLimitKeys)
	c.fields("resilience.breaker", breakerSettings(r.Breaker).Validate(), nil)
	c.fields("resilience.bulkhead", bulkheadConfig(r.Bulkhead).Validate(), map[string]string{"Group": "-"})
	c.fields("resilience.shedding", sheddingConfig(r.Shedding).Validate(), nil)
	c.fields("resilience.client", clientConfig(r.Client).Validate(), nil)
}

func (resiliencePart) build(b *builder) {
	groupOf := routeGroups(b.routes)
	mp := b.tel.MeterProvider()
	if rl := b.cfg.RateLimit; rl.Enabled {
		cfg := rateLimitConfig(rl)
		cfg.Store, cfg.Cookie, cfg.MeterProvider, cfg.Logger = rateLimitStore(b), b.cfg.Auth.JWT.Cookie, mp, b.logger
		b.stages.RateLimit, b.stages.PrincipalRateLimit = resilience.RateLimitWithConfig(cfg)
	}
	r := b.cfg.Resilience
	admission := resilience.AdmissionConfig{Bulkhead: bulkheadConfig(r.Bulkhead)}
	admission.Bulkhead.Group, admission.Bulkhead.MeterProvider = groupOf, mp
	if r.Shedding.Enabled {
		sh := sheddingConfig(r.Shedding)
		sh.MeterProvider = mp
		admission.Shedding = &sh
	}
	b.stages.LoadShedding = resilience.Admission(admission)
	if r.Breaker.Enabled {
		b.stages.CircuitBreaker = resilience.CircuitBreakerWithConfig(resilience.BreakerConfig{
			BreakerSettings: breakerSettings(r.Breaker), Group: groupOf, MeterProvider: mp, Logger: b.logger,
		})
	}
	cc := clientConfig(r.Client)
	cc.MeterProvider, cc.Logger = mp, b.logger
	b.s.client = resilience.NewClient(b.tel.HTTPTransport(nil), cc)
}

// The Go configs below start from their package's defaults, so fields no
// key sets keep the package's choice, and take every key's value as it is:
// a zero means in Go what it means in the key.

// rateLimitConfig is [rate_limit] as the stages take it; the service adds
// the store, the cookie, the meter provider and the logger.
func rateLimitConfig(rl config.RateLimit) resilience.RateLimitConfig {
	c := resilience.DefaultRateLimitConfig
	c.Anonymous, c.User, c.Client = resilience.PerMinute(rl.PerIPRPM), resilience.PerMinute(rl.PerUserRPM), resilience.PerMinute(rl.PerClientRPM)
	c.Routes, c.Global = routeLimits(rl.Routes), routeLimits(rl.Global)
	return c
}

func bulkheadConfig(bh config.Bulkhead) resilience.BulkheadConfig {
	c := resilience.DefaultBulkheadConfig
	c.MaxConcurrent, c.MaxWait, c.Groups = bh.MaxConcurrent, bh.MaxWait, groupLimits(bh.Groups)
	return c
}

func sheddingConfig(sh config.Shedding) resilience.SheddingConfig {
	c := resilience.DefaultSheddingConfig
	c.InitialLimit, c.MinLimit, c.MaxLimit = sh.InitialLimit, sh.MinLimit, sh.MaxLimit
	return c
}

// clientConfig is [resilience.client] as svc.Client takes it.
func clientConfig(c config.Client) resilience.ClientConfig {
	cc := resilience.DefaultClientConfig
	cc.Timeout, cc.MaxRetries, cc.BackoffBase, cc.BackoffMax = c.Timeout, c.MaxRetries, c.BackoffBase, c.BackoffMax
	cc.RetryBudget, cc.MaxConcurrentPerHost = c.RetryBudget, c.MaxConcurrentPerHost
	cc.Breaker, cc.DisableBreaker = breakerSettings(c.Breaker), !c.Breaker.Enabled
	return cc
}

// rateLimitStore returns the store rate_limit.store names ("auto": Redis
// when redis.url is set); Redis is wrapped so that its outages follow
// rate_limit.redis_failure instead of failing requests, and show as a
// readiness warning. While the Redis guard fails commands fast the policy
// decides without a round trip, and the shared limits are back as soon as
// the guard's probe sees Redis answer.
func rateLimitStore(b *builder) resilience.Store {
	rl := b.cfg.RateLimit
	if rl.Store == "memory" || b.redis == nil {
		return resilience.NewMemoryStore(rl.MaxKeys)
	}
	redisStore := resilience.NewRedisStore(b.redis, b.s.name+":")
	var primary resilience.Store = redisStore
	if rl.LeaseSize > 0 {
		primary = resilience.NewLeasingStore(redisStore, rl.LeaseSize, rl.MaxKeys)
	}
	fallback := resilience.NewFallbackStore(primary, resilience.FallbackConfig{
		Policy:            resilience.FailurePolicy(rl.RedisFailure),
		ExpectedInstances: rl.ExpectedInstances,
		Local:             resilience.NewMemoryStore(rl.MaxKeys),
		ProbeInterval:     b.cfg.Redis.ProbeInterval,
		Available:         b.redisGuard.Available,
		Logger:            b.logger,
		MeterProvider:     b.tel.MeterProvider(),
	})
	b.ready("ratelimit:redis", fallback.HealthCheck, true)
	return fallback
}

// routeLimits turns the parsed "METHOD /route=N" entries into limits.
func routeLimits(entries []config.RouteLimit) map[string]resilience.Limit {
	out := make(map[string]resilience.Limit, len(entries))
	for _, e := range entries {
		out[e.Key()] = resilience.PerMinute(e.RPM)
	}
	return out
}

func breakerSettings(b config.Breaker) resilience.BreakerSettings {
	return resilience.BreakerSettings{
		FailureRatio: b.FailureRatio, MinRequests: b.MinRequests, Interval: b.Interval,
		OpenTimeout: b.OpenTimeout, HalfOpenRequests: b.HalfOpenRequests,
	}
}

// groupLimits turns the parsed "group=N" entries into bulkhead sizes.
func groupLimits(entries []config.GroupLimit) map[string]int {
	out := make(map[string]int, len(entries))
	for _, e := range entries {
		out[e.Group] = e.Max
	}
	return out
}

// routeGroups returns the resilience group of a route: Route.Group, or its
// version label; otherGroup for requests no route matched.
func routeGroups(routes routeIndex) func(method, route string) string {
	groups := map[routeKey]string{}
	for key, r := range routes {
		groups[key] = r.GroupName()
	}
	return func(method, route string) string {
		if g, ok := groups[routeKey{method, route}]; ok {
			return g
		}
		return otherGroup
	}
}

// Client returns the service's client for calls to dependencies: the
// instrumented transport of HTTPClient under a per-host circuit breaker and
// bulkhead, a per-attempt timeout, and retries with exponential backoff and
// full jitter — only for idempotent methods or requests with an
// Idempotency-Key, honouring Retry-After, within a retry budget — all from
// [resilience.client]. Close every response body: it holds the attempt's
// bulkhead slot until then.
func (s *Service) Client() *http.Client { return s.client }
