package service

import (
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/internal/redisguard"
)

// redisClient returns the service's Redis client, made on first use from
// [redis] and shared by every store that uses Redis: each command gets at
// most redis.timeout, is never retried, and fails at once while Redis is
// not answering, until a PING every redis.probe_interval is answered
// (internal/redisguard). That state shows on readiness as the optional
// check "redis". The client is closed at the end of the shutdown sequence.
func (s *Service) redisClient() (*redis.Client, error) {
	if s.redis != nil {
		return s.redis, nil
	}
	r := s.cfg.Redis
	if r.URL == "" {
		return nil, errors.New("not set")
	}
	client, guard, err := redisguard.NewClient(r.URL, redisguard.Config{
		Timeout: r.Timeout, ProbeInterval: r.ProbeInterval, Logger: s.logger,
	})
	if err != nil {
		// go-redis errors may quote the URL, password included.
		return nil, errors.New("not a valid Redis URL")
	}
	s.redis, s.redisGuard = client, guard
	s.opts.readiness = append(s.opts.readiness, &check{name: "redis", fn: guard.HealthCheck, optional: true})
	return client, nil
}

// closeRedis stops the guard's probe, then closes the client.
func (s *Service) closeRedis() {
	if s.redis == nil {
		return
	}
	s.redisGuard.Close()
	_ = s.redis.Close()
}
