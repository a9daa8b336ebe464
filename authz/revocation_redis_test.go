package authz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/redistest"
)

func TestRedisRevocationStore(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	ctx := context.Background()
	s := NewRedisRevocationStore(client, "test:revoked:")

	until := time.Now().Add(time.Hour)
	if err := s.Revoke(ctx, "a", until); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IsRevoked(ctx, "a"); err != nil || !got {
		t.Fatalf("IsRevoked(a) = %v, %v", got, err)
	}
	if got, err := s.IsRevoked(ctx, "b"); err != nil || got {
		t.Fatalf("IsRevoked(b) = %v, %v", got, err)
	}
	// The key lives exactly until the token's exp: Redis forgets it then.
	ttl := client.PTTL(ctx, "test:revoked:a").Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL = %s, want just under 1h", ttl)
	}
	if err := s.Revoke(ctx, "past", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, "test:revoked:past").Val(); n != 0 {
		t.Error("an already expired token was stored")
	}
	// Redis expires the key: simulate the passage of time with PEXPIRE.
	client.PExpire(ctx, "test:revoked:a", time.Millisecond)
	waitFor(t, "redis to expire the revocation", func() bool {
		got, err := s.IsRevoked(ctx, "a")
		return err == nil && !got
	})

	srv.Kill()
	if _, err := s.IsRevoked(ctx, "a"); err == nil {
		t.Error("IsRevoked succeeded with redis down")
	}
	if err := s.Revoke(ctx, "a", until); err == nil {
		t.Error("Revoke succeeded with redis down")
	}
}

func TestVerifyWithRedisRevocation(t *testing.T) {
	srv := redistest.Start(t)
	store := NewRedisRevocationStore(srv.Client(t), "troupe:revoked:")
	cfg := jwtConfig(t)
	cfg.Revocation, cfg.CacheSize = store, 10
	v := newTestVerifier(t, cfg)
	ctx := context.Background()
	tok := validRS256(t, map[string]any{"jti": "r1"})
	mustAcceptToken(t, v, tok)
	if err := store.Revoke(ctx, "r1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustRefuseToken(t, v, tok, "revoked")

	other := validRS256(t, map[string]any{"jti": "r2"})
	mustAcceptToken(t, v, other)
	srv.Kill()
	if _, err := v.Verify(ctx, other); !errors.Is(err, ErrRevocationUnavailable) {
		t.Fatalf("Verify with redis down = %v, want ErrRevocationUnavailable", err)
	}
	srv.Restart()
	mustAcceptToken(t, v, other)
}
