package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

var _ Store = (*Redis)(nil)

// Redis is a Store in Redis, shared by every service instance that uses the
// same server and prefix, and surviving process restarts.
//
// Each call waits as long as the client and ctx let it. A Troupe service's
// client bounds every command by redis.timeout, without retries, and fails
// at once while Redis is not answering, so a component's kv call on a
// request's path costs at most that budget.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a store keeping each key as prefix+key in client's
// database. The prefix separates services (and tests) sharing one server.
// The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Get returns the value under key, ErrNotFound when there is none, or the
// Redis error: an unreachable server is a failure, never a missing key.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.Get(ctx, r.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("state: redis get: %w", err)
	}
	return v, nil
}

// Put stores value under key, without expiry.
func (r *Redis) Put(ctx context.Context, key string, value []byte) error {
	if err := r.client.Set(ctx, r.prefix+key, value, 0).Err(); err != nil {
		return fmt.Errorf("state: redis set: %w", err)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("state: redis del: %w", err)
	}
	return nil
}
