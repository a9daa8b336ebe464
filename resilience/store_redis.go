package resilience

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store shared by every instance of a service: each
// decision is one atomic round trip to Redis (an EVALSHA of redis_rate's
// GCRA script, which reads Redis's own clock, so instances need no clock
// agreement). Keys expire by themselves once idle.
//
// A decision waits as long as the client lets it: give it a client with
// bounded timeouts and no retries, and wrap it in a FallbackStore. A
// Troupe service's client bounds every command by redis.timeout and fails
// at once while Redis is not answering (docs/resilience.md, "Redis
// budget").
//
// redis_rate fits the Store interface as is: its limit has the same Rate,
// Burst and Period, and its AllowAtMost is exactly the "take up to n
// tokens" a LeasingStore needs, so Troupe keeps no Lua of its own.
type RedisStore struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewRedisStore returns a RedisStore that stores keys in client under
// "rate:" + prefix + key ("rate:" is redis_rate's own prefix). Give each
// service its own prefix so that services sharing a Redis never share a
// budget by accident.
func NewRedisStore(client redis.UniversalClient, prefix string) *RedisStore {
	return &RedisStore{limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// Name returns "redis".
func (*RedisStore) Name() string { return "redis" }

// Allow decides n requests for key under l, in one round trip.
func (s *RedisStore) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := checkRequest(l, n); err != nil {
		return Result{}, err
	}
	r, err := s.limiter.AllowN(ctx, s.prefix+key, toRedisRate(l), n)
	if err != nil {
		return Result{}, fmt.Errorf("rate limit: redis: %w", err)
	}
	return fromRedisRate(l, r, r.Allowed > 0), nil
}

// takeUpTo takes between 0 and n tokens of key's budget in one round trip
// and returns how many it got: the lease a LeasingStore spends locally.
func (s *RedisStore) takeUpTo(ctx context.Context, key string, l Limit, n int) (int, Result, error) {
	r, err := s.limiter.AllowAtMost(ctx, s.prefix+key, toRedisRate(l), n)
	if err != nil {
		return 0, Result{}, fmt.Errorf("rate limit: redis: %w", err)
	}
	return r.Allowed, fromRedisRate(l, r, r.Allowed > 0), nil
}

func toRedisRate(l Limit) redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Rate, Burst: l.burst(), Period: l.Period}
}

// fromRedisRate converts redis_rate's result, whose RetryAfter is -1 when
// nothing needs to wait.
func fromRedisRate(l Limit, r *redis_rate.Result, allowed bool) Result {
	return Result{
		Allowed:    allowed,
		Limit:      l,
		Remaining:  r.Remaining,
		RetryAfter: max(r.RetryAfter, 0),
		ResetAfter: max(r.ResetAfter, 0),
	}
}
