package service

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/chain"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/resilience"
)

// otherGroup is the resilience group of requests no API route matched, so
// that the set of groups stays the fixed set the API declares.
const otherGroup = "other"

// buildResilience fills the rate-limit, load-shedding and circuit-breaker
// stages from [rate_limit] and [resilience], and makes svc.Client.
func (s *Service) buildResilience(stages *middleware.Stages) error {
	groupOf := s.routeGroups()
	mp := s.tel.MeterProvider()

	if rl := s.cfg.RateLimit; rl.Enabled {
		store, err := s.rateLimitStore(rl)
		if err != nil {
			return err
		}
		cfg := resilience.RateLimitConfig{
			Store:     store,
			Anonymous: resilience.PerMinute(rl.PerIPRPM),
			User:      resilience.PerMinute(rl.PerUserRPM),
			Client:    resilience.PerMinute(rl.PerClientRPM),
			Routes:    routeLimits(rl.Routes),
			Global:    routeLimits(rl.Global),
			Cookie:    s.cfg.Auth.JWT.Cookie,
			Metrics:   telemetry.NewRateLimitMetrics(mp),
			Logger:    s.logger,
		}
		stages.RateLimit, stages.PrincipalRateLimit = resilience.RateLimit(cfg)
	}

	r := s.cfg.Resilience
	var early []echo.MiddlewareFunc // the load-shedding slot: shedding, then bulkheads
	if r.Shedding.Enabled {
		early = append(early, resilience.LoadShedding(resilience.SheddingConfig{
			InitialLimit: r.Shedding.InitialLimit, MinLimit: r.Shedding.MinLimit, MaxLimit: r.Shedding.MaxLimit,
			Metrics: telemetry.NewSheddingMetrics(mp),
		}))
	}
	if bulkhead := s.bulkheads(r.Bulkhead, groupOf); bulkhead != nil {
		early = append(early, bulkhead)
	}
	stages.LoadShedding = chain.Compose(early...)
	if r.Breaker.Enabled {
		stages.CircuitBreaker = resilience.CircuitBreaker(resilience.BreakerConfig{
			BreakerSettings: breakerSettings(r.Breaker),
			Group:           groupOf,
			Metrics:         telemetry.NewBreakerMetrics(mp),
			Logger:          s.logger,
		})
	}

	c := r.Client
	cc := resilience.ClientConfig{
		Timeout: c.Timeout, MaxRetries: c.MaxRetries, BackoffBase: c.BackoffBase, BackoffMax: c.BackoffMax,
		RetryBudget: c.RetryBudget, MaxConcurrentPerHost: c.MaxConcurrentPerHost,
		RetryMetrics: telemetry.NewRetryMetrics(mp), BulkheadMetrics: telemetry.NewBulkheadMetrics(mp), Logger: s.logger,
	}
	// The keys' zeros mean "none"; the client's mean "its default".
	if c.MaxRetries == 0 {
		cc.MaxRetries = -1
	}
	if c.RetryBudget == 0 {
		cc.RetryBudget = -1
	}
	if c.Breaker.Enabled {
		cc.Breaker = breakerSettings(c.Breaker)
		cc.BreakerMetrics = telemetry.NewBreakerMetrics(mp)
	} else {
		cc.DisableBreaker = true
	}
	s.client = resilience.NewClient(s.tel.HTTPTransport(nil), cc)
	return nil
}

// rateLimitStore returns the store rate_limit.store names ("auto": Redis
// when redis.url is set); Redis is wrapped so that its outages follow
// rate_limit.redis_failure instead of failing requests, and show as a
// readiness warning. While the Redis guard fails commands fast the policy
// decides without a round trip, and the shared limits are back as soon as
// the guard's probe sees Redis answer.
func (s *Service) rateLimitStore(rl config.RateLimit) (resilience.Store, error) {
	if rl.Store == "memory" || rl.Store == "auto" && s.cfg.Redis.URL == "" {
		return resilience.NewMemoryStore(rl.MaxKeys), nil
	}
	client, err := s.redisClient()
	if err != nil {
		return nil, &config.Error{Key: "redis.url", Source: s.effective.Source("redis.url"), Err: err}
	}
	redisStore := resilience.NewRedisStore(client, s.name+":")
	var primary resilience.Store = redisStore
	if rl.LeaseSize > 0 {
		primary = resilience.NewLeasingStore(redisStore, rl.LeaseSize, rl.MaxKeys)
	}
	fallback := resilience.NewFallbackStore(primary, resilience.FallbackConfig{
		Policy:            resilience.FailurePolicy(rl.RedisFailure),
		ExpectedInstances: rl.ExpectedInstances,
		Local:             resilience.NewMemoryStore(rl.MaxKeys),
		ProbeInterval:     s.cfg.Redis.ProbeInterval,
		Available:         s.redisGuard.Available,
		Logger:            s.logger,
		Metrics:           telemetry.NewRateLimitMetrics(s.tel.MeterProvider()),
	})
	s.opts.readiness = append(s.opts.readiness, &check{name: "ratelimit:redis", fn: fallback.HealthCheck, optional: true})
	return fallback, nil
}

// routeLimits turns validated "METHOD /route=N" entries into limits.
func routeLimits(entries []string) map[string]resilience.Limit {
	out := make(map[string]resilience.Limit, len(entries))
	for _, e := range entries {
		route, rpm, _ := config.ParseRouteLimit(e) // validated by config
		out[route] = resilience.PerMinute(rpm)
	}
	return out
}

func breakerSettings(b config.Breaker) resilience.BreakerSettings {
	return resilience.BreakerSettings{
		FailureRatio: b.FailureRatio, MinRequests: uint32(b.MinRequests), Interval: b.Interval,
		OpenTimeout: b.OpenTimeout, HalfOpenRequests: uint32(b.HalfOpenRequests),
	}
}

// bulkheads returns one bulkhead per route group — resilience.bulkhead.groups
// sizes some, max_concurrent the rest — or nil when none is configured.
func (s *Service) bulkheads(b config.Bulkhead, groupOf func(method, route string) string) echo.MiddlewareFunc {
	metrics := telemetry.NewBulkheadMetrics(s.tel.MeterProvider())
	byGroup := map[string]echo.MiddlewareFunc{}
	for _, entry := range b.Groups {
		group, n, _ := config.ParseGroupLimit(entry) // validated by config
		byGroup[group] = resilience.Bulkhead(resilience.BulkheadConfig{MaxConcurrent: n, MaxWait: b.MaxWait, Group: groupOf, Metrics: metrics})
	}
	var rest echo.MiddlewareFunc
	if b.MaxConcurrent > 0 {
		rest = resilience.Bulkhead(resilience.BulkheadConfig{MaxConcurrent: b.MaxConcurrent, MaxWait: b.MaxWait, Group: groupOf, Metrics: metrics})
	}
	if len(byGroup) == 0 {
		return rest
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		handlers := map[string]echo.HandlerFunc{}
		for group, m := range byGroup {
			handlers[group] = m(next)
		}
		fallback := next
		if rest != nil {
			fallback = rest(next)
		}
		return func(c echo.Context) error {
			if h, ok := handlers[groupOf(c.Request().Method, c.Path())]; ok {
				return h(c)
			}
			return fallback(c)
		}
	}
}

// routeGroups returns the resilience group of a route: Route.Group, or its
// version label; otherGroup for requests no route matched.
func (s *Service) routeGroups() func(method, route string) string {
	groups := map[routeKey]string{}
	for key, r := range s.apiRoutes() {
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
