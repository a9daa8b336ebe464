package authz

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestMemoryRevocationStore(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: jwtNow}
	s := NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 10})
	s.now = clock.Now
	if err := s.Revoke(ctx, "a", jwtNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "past", jwtNow.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	for jti, want := range map[string]bool{"a": true, "past": false, "b": false} {
		if got, err := s.IsRevoked(ctx, jti); err != nil || got != want {
			t.Errorf("IsRevoked(%q) = %v, %v; want %v", jti, got, err, want)
		}
	}
	// Revoking again keeps the later expiry, never an earlier one.
	_ = s.Revoke(ctx, "a", jwtNow.Add(2*time.Minute))
	_ = s.Revoke(ctx, "a", jwtNow.Add(time.Second))
	clock.Advance(90 * time.Second)
	if got, _ := s.IsRevoked(ctx, "a"); !got {
		t.Error("revocation extended to 2m expired at 90s")
	}
	clock.Advance(time.Minute)
	if got, _ := s.IsRevoked(ctx, "a"); got {
		t.Error("revocation outlived its until")
	}
}

func TestMemoryRevocationStoreBound(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: jwtNow}
	s := NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 3})
	s.now = clock.Now
	for i := range 3 {
		if err := s.Revoke(ctx, fmt.Sprint(i), jwtNow.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Full of live revocations: refusing is the only safe answer.
	if err := s.Revoke(ctx, "x", jwtNow.Add(time.Hour)); !errors.Is(err, ErrRevocationStoreFull) {
		t.Fatalf("Revoke into a full store = %v, want ErrRevocationStoreFull", err)
	}
	for i := range 3 {
		if got, _ := s.IsRevoked(ctx, fmt.Sprint(i)); !got {
			t.Fatalf("revocation %d lost when the store was full", i)
		}
	}
	// Once one expires, its room is reused.
	clock.Advance(90 * time.Second)
	if err := s.Revoke(ctx, "x", jwtNow.Add(time.Hour)); err != nil {
		t.Fatalf("Revoke after an expiry = %v", err)
	}
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
	if got, _ := s.IsRevoked(ctx, "x"); !got {
		t.Error("x not revoked")
	}
}

func TestVerifyChecksRevocationEveryTime(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 100})
	store.now = func() time.Time { return jwtNow }
	for _, cacheSize := range []int{0, 100} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			cfg := jwtConfig(t)
			cfg.Revocation, cfg.CacheSize = store, cacheSize
			v := newTestVerifier(t, cfg)
			jti := fmt.Sprintf("jti-%d", cacheSize)
			tok := validRS256(t, map[string]any{"jti": jti})
			mustAcceptToken(t, v, tok)
			mustAcceptToken(t, v, tok) // a cache hit when the cache is on
			if err := store.Revoke(ctx, jti, jwtNow.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			mustRefuseToken(t, v, tok, "revoked")
		})
	}
}

func TestMissingJTIPolicy(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.Revocation = NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 10})
	strict := newTestVerifier(t, cfg)
	noJTI := validRS256(t, map[string]any{"jti": nil})
	mustRefuseToken(t, strict, noJTI, "missing jti")
	cfg.MissingJTI = MissingJTIReject
	mustRefuseToken(t, newTestVerifier(t, cfg), noJTI, "missing jti")

	cfg.MissingJTI = MissingJTIAllow
	lenient := newTestVerifier(t, cfg)
	mustAcceptToken(t, lenient, noJTI)

	cfg.Revocation, cfg.MissingJTI = nil, ""
	mustAcceptToken(t, newTestVerifier(t, cfg), noJTI) // revocation off: jti not needed
}

// failingStore is a revocation store that cannot answer.
type failingStore struct{}

func (failingStore) Revoke(context.Context, string, time.Time) error { return errors.New("down") }
func (failingStore) IsRevoked(context.Context, string) (bool, error) {
	return false, errors.New("connection refused")
}

func TestRevocationStoreDownFailsClosed(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.Revocation, cfg.CacheSize = failingStore{}, 10
	v := newTestVerifier(t, cfg)
	for range 2 { // uncached, then the same again
		_, err := v.Verify(context.Background(), validRS256(t, nil))
		if !errors.Is(err, ErrRevocationUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify = %v, want ErrRevocationUnavailable only", err)
		}
	}
}
