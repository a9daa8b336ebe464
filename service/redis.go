package service

import (
	"errors"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/redisguard"
)

// storesPart makes the service's one Redis client when a store uses Redis
// (rate limits, token revocation, component state), from [redis]: each
// command gets at most redis.timeout, is never retried, and fails at once
// while Redis is not answering, until a PING every redis.probe_interval is
// answered (internal/redisguard). That state shows on readiness as the
// optional check "redis". The client is the first thing built and the last
// released.
type storesPart struct{}

func (storesPart) check(*checker) {}

func (storesPart) build(b *builder) {
	r := b.cfg.Redis
	if !usesRedis(b.cfg, &b.s.opts) {
		return
	}
	client, guard, err := redisguard.NewClient(r.URL, redisguard.Config{
		Timeout: r.Timeout, ProbeInterval: r.ProbeInterval, Logger: b.logger,
	})
	if err != nil {
		// go-redis errors may quote the URL, password included.
		b.fail("redis.url", errors.New("not a valid Redis URL"))
		return
	}
	b.redis, b.redisGuard = client, guard
	b.ready("redis", guard.HealthCheck, true)
	b.release("redis", func() {
		guard.Close()
		_ = client.Close()
	})
}

// usesRedis reports whether a store the config turns on lives in Redis.
// config.Validate has checked that each store naming "redis" has a URL.
func usesRedis(c *config.Config, o *options) bool {
	if c.Redis.URL == "" {
		return false
	}
	onRedis := func(store string) bool { return store == "redis" || store == "auto" }
	return c.RateLimit.Enabled && onRedis(c.RateLimit.Store) ||
		c.Auth.Enabled() && c.Auth.Revocation.Enabled && c.Auth.Revocation.Store == "redis" ||
		componentsKV(c, o) == kvRedis ||
		!natsWanted(c, o) // Service.State
}
