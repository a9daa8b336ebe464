package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// RevocationStore records revoked token IDs (jti). A revocation only needs
// to outlive the token, so each entry carries the token's expiry and a store
// may forget it after that.
type RevocationStore interface {
	// Revoke marks jti revoked until until (the token's exp).
	Revoke(ctx context.Context, jti string, until time.Time) error
	// IsRevoked reports whether jti is revoked. An error means the store
	// could not answer; the caller must then refuse the token.
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// ErrRevocationStoreFull is returned by MemoryRevocationStore.Revoke when it
// holds maxEntries unexpired revocations. Dropping one to make room would
// silently un-revoke a token, so the new revocation is refused instead.
var ErrRevocationStoreFull = errors.New("authz: revocation store full")

// MemoryRevocationStore is a RevocationStore in process memory, bounded to a
// number of entries. It suits one instance; several instances need a shared
// store (RedisRevocationStore) or a revocation reaches only one of them.
type MemoryRevocationStore struct {
	max int
	now func() time.Time

	mu        sync.RWMutex
	until     map[string]time.Time
	nextSweep time.Time // the earliest until in the map: no sweep frees anything before it
}

// NewMemoryRevocationStore returns an empty store configured by cfg. It
// panics when cfg.Validate fails: a wiring mistake, found at start-up.
func NewMemoryRevocationStore(cfg MemoryRevocationConfig) *MemoryRevocationStore {
	if err := cfg.Validate(); err != nil {
		panic("authz: NewMemoryRevocationStore: " + err.Error())
	}
	return &MemoryRevocationStore{max: cfg.MaxEntries, now: time.Now, until: make(map[string]time.Time)}
}

// Revoke records jti until until. A until in the past is a no-op: the token
// has expired and is refused anyway. When the store is full, expired
// entries are dropped; if none has expired Revoke returns
// ErrRevocationStoreFull.
func (s *MemoryRevocationStore) Revoke(_ context.Context, jti string, until time.Time) error {
	now := s.now()
	if !until.After(now) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.until[jti]; ok {
		if until.After(old) {
			s.until[jti] = until
		}
		return nil
	}
	if len(s.until) >= s.max {
		if now.Before(s.nextSweep) {
			return ErrRevocationStoreFull
		}
		s.sweep(now)
		if len(s.until) >= s.max {
			return ErrRevocationStoreFull
		}
	}
	s.until[jti] = until
	if len(s.until) == 1 || until.Before(s.nextSweep) {
		s.nextSweep = until
	}
	return nil
}

// sweep drops expired entries and recomputes nextSweep.
func (s *MemoryRevocationStore) sweep(now time.Time) {
	s.nextSweep = time.Time{}
	for jti, until := range s.until {
		if !until.After(now) {
			delete(s.until, jti)
		} else if s.nextSweep.IsZero() || until.Before(s.nextSweep) {
			s.nextSweep = until
		}
	}
}

// IsRevoked reports whether jti is revoked and its revocation unexpired.
func (s *MemoryRevocationStore) IsRevoked(_ context.Context, jti string) (bool, error) {
	s.mu.RLock()
	until, ok := s.until[jti]
	s.mu.RUnlock()
	return ok && until.After(s.now()), nil
}

// Len returns the number of entries held, expired ones not yet swept
// included.
func (s *MemoryRevocationStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.until)
}

// MissingJTIPolicy is what a Verifier with a revocation store does with a
// token that carries no jti (auth.revocation.missing_jti).
type MissingJTIPolicy string

// The missing-jti policies.
const (
	// MissingJTIReject refuses the token: it could not be revoked. The
	// zero value "" means the same.
	MissingJTIReject MissingJTIPolicy = "reject"
	// MissingJTIAllow accepts the token, unrevocable, for identity
	// providers that issue no jti.
	MissingJTIAllow MissingJTIPolicy = "allow"
)

// Validate reports an unknown policy; "" is the default, MissingJTIReject.
func (p MissingJTIPolicy) Validate() error {
	switch p {
	case "", MissingJTIReject, MissingJTIAllow:
		return nil
	}
	return fmt.Errorf("unknown policy %q (want reject or allow)", string(p))
}

// MemoryRevocationConfig configures a MemoryRevocationStore.
type MemoryRevocationConfig struct {
	// MaxEntries bounds the store (auth.revocation.max_entries), at least 1.
	// When it holds this many unexpired revocations it refuses new ones
	// (ErrRevocationStoreFull) rather than forget one.
	MaxEntries int
}

// DefaultMemoryRevocationConfig holds up to 100,000 revocations: at about
// 100 bytes each, 10 MB, and more tokens than an instance sees revoked
// within their lifetime.
var DefaultMemoryRevocationConfig = MemoryRevocationConfig{MaxEntries: 100_000}

// Validate reports a MaxEntries below 1 as a *fielderr.Error, or nil.
func (cfg MemoryRevocationConfig) Validate() error {
	if cfg.MaxEntries < 1 {
		return fielderr.New("MaxEntries", "must be at least 1, got %d", cfg.MaxEntries)
	}
	return nil
}
