package service

import (
	"net/http"

	"github.com/troupehq/troupe/config"
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
			Store:         store,
			Anonymous:     resilience.PerMinute(rl.PerIPRPM),
			User:          resilience.PerMinute(rl.PerUserRPM),
			Client:        resilience.PerMinute(rl.PerClientRPM),
			Routes:        routeLimits(rl.Routes),
			Global:        routeLimits(rl.Global),
			Cookie:        s.cfg.Auth.JWT.Cookie,
			MeterProvider: mp,
			Logger:        s.logger,
		}
		stages.RateLimit, stages.PrincipalRateLimit = resilience.RateLimitWithConfig(cfg)
	}

	r := s.cfg.Resilience
	admission := resilience.AdmissionConfig{Bulkhead: resilience.BulkheadConfig{
		MaxConcurrent: r.Bulkhead.MaxConcurrent, MaxWait: r.Bulkhead.MaxWait, Groups: groupLimits(r.Bulkhead.Groups),
		Group: groupOf, MeterProvider: mp,
	}}
	if r.Shedding.Enabled {
		admission.Shedding = &resilience.SheddingConfig{
			InitialLimit: r.Shedding.InitialLimit, MinLimit: r.Shedding.MinLimit, MaxLimit: r.Shedding.MaxLimit,
			MeterProvider: mp,
		}
	}
	stages.LoadShedding = resilience.Admission(admission)
	if r.Breaker.Enabled {
		stages.CircuitBreaker = resilience.CircuitBreakerWithConfig(resilience.BreakerConfig{
			BreakerSettings: breakerSettings(r.Breaker),
			Group:           groupOf,
			MeterProvider:   mp,
			Logger:          s.logger,
		})
	}

	c := r.Client
	cc := resilience.DefaultClientConfig
	cc.Timeout, cc.MaxRetries, cc.BackoffBase, cc.BackoffMax = c.Timeout, c.MaxRetries, c.BackoffBase, c.BackoffMax
	cc.RetryBudget, cc.MaxConcurrentPerHost = c.RetryBudget, c.MaxConcurrentPerHost
	cc.Breaker, cc.DisableBreaker = breakerSettings(c.Breaker), !c.Breaker.Enabled
	cc.MeterProvider, cc.Logger = mp, s.logger
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
		MeterProvider:     s.tel.MeterProvider(),
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
		FailureRatio: b.FailureRatio, MinRequests: b.MinRequests, Interval: b.Interval,
		OpenTimeout: b.OpenTimeout, HalfOpenRequests: b.HalfOpenRequests,
	}
}

// groupLimits turns validated "group=N" entries into bulkhead sizes.
func groupLimits(entries []string) map[string]int {
	out := make(map[string]int, len(entries))
	for _, e := range entries {
		group, n, _ := config.ParseGroupLimit(e) // validated by config
		out[group] = n
	}
	return out
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
