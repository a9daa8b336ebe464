package authz

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisRevocationStore is a RevocationStore in Redis, shared by every
// instance of a service. Each revocation is a key prefix+jti whose TTL ends
// at the token's expiry, so Redis forgets it when it no longer matters.
//
// A lookup is on every authenticated request and waits as long as the
// client lets it: give it a client with bounded timeouts and no retries. A
// Troupe service's client bounds every command by redis.timeout and fails
// at once while Redis is not answering, which Authenticate turns into a
// fast 503.
type RedisRevocationStore struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewRedisRevocationStore returns a store using client, with keys named
// prefix+jti (for example "troupe:revoked:").
func NewRedisRevocationStore(client redis.UniversalClient, prefix string) *RedisRevocationStore {
	return &RedisRevocationStore{client: client, prefix: prefix, now: time.Now}
}

// Revoke sets prefix+jti with a TTL ending at until. A until in the past is
// a no-op: the token has expired and is refused anyway.
func (s *RedisRevocationStore) Revoke(ctx context.Context, jti string, until time.Time) error {
	ttl := until.Sub(s.now())
	if ttl < time.Millisecond {
		return nil
	}
	if err := s.client.Set(ctx, s.prefix+jti, "1", ttl).Err(); err != nil {
		return fmt.Errorf("redis revocation store: revoke: %w", err)
	}
	return nil
}

// IsRevoked reports whether prefix+jti exists.
func (s *RedisRevocationStore) IsRevoked(ctx context.Context, jti string) (bool, error) {
	n, err := s.client.Exists(ctx, s.prefix+jti).Result()
	if err != nil {
		return false, fmt.Errorf("redis revocation store: lookup: %w", err)
	}
	return n > 0, nil
}
