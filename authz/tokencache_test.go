package authz

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

func TestCacheNeverServesPastExp(t *testing.T) {
	clock := &fakeClock{now: jwtNow}
	cfg := jwtConfig(t)
	cfg.CacheSize, cfg.Now, cfg.Leeway = 10, clock.Now, 5*time.Second
	v := newTestVerifier(t, cfg)
	tok := validRS256(t, map[string]any{"exp": jwtNow.Add(time.Minute).Unix()})
	mustAcceptToken(t, v, tok)
	if v.cache.len() != 1 {
		t.Fatalf("cache holds %d entries, want 1", v.cache.len())
	}
	// Within exp+leeway the verdict holds, as a fresh check would say.
	clock.Advance(time.Minute + 4*time.Second)
	mustAcceptToken(t, v, tok)
	// At exp+leeway it ends, cached or not.
	clock.Advance(time.Second)
	mustRefuseToken(t, v, tok, "expired")
}

func TestCacheHitSkipsSignatureCheck(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.CacheSize = 10
	v := newTestVerifier(t, cfg)
	tok := validRS256(t, nil)
	first := mustAcceptToken(t, v, tok)
	// With no keys at all, only the cache can still vouch for tok.
	v.keys.Store(newKeySet(nil))
	if again := mustAcceptToken(t, v, tok); again != first {
		t.Error("a cache hit returned a different principal")
	}
	mustRefuseToken(t, v, validRS256(t, map[string]any{"jti": "other"}), "unknown kid")
	// A refused token is not cached.
	if v.cache.len() != 1 {
		t.Errorf("cache holds %d entries, want 1", v.cache.len())
	}
}

func cacheKey(i int) *[sha256.Size]byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	k := sha256.Sum256(b[:])
	return &k
}

func TestTokenCacheBoundAndClock(t *testing.T) {
	for _, size := range []int{1, 5, 63, 64, 200, 1000, 5000} {
		c := newTokenCache(size)
		until := jwtNow.Add(time.Hour)
		for i := range size * 3 {
			c.put(cacheKey(i), &Principal{Subject: "s"}, until, jwtNow)
		}
		if n := c.len(); n > size || n < size*9/10 {
			t.Errorf("size %d: cache holds %d entries", size, n)
		}
	}

	// CLOCK gives a recently used entry a second chance.
	c := newTokenCache(4)
	until := jwtNow.Add(time.Hour)
	for i := range 4 {
		c.put(cacheKey(i), &Principal{}, until, jwtNow)
	}
	if _, ok := c.get(cacheKey(0), jwtNow); !ok {
		t.Fatal("entry 0 missing")
	}
	c.put(cacheKey(4), &Principal{}, until, jwtNow)
	if _, ok := c.get(cacheKey(0), jwtNow); !ok {
		t.Error("the recently used entry was evicted")
	}
	if _, ok := c.get(cacheKey(1), jwtNow); ok {
		t.Error("the unused entry survived eviction")
	}

	// An expired entry is replaced before a live one, even if used.
	c = newTokenCache(2)
	c.put(cacheKey(0), &Principal{}, jwtNow.Add(time.Second), jwtNow)
	c.put(cacheKey(1), &Principal{}, until, jwtNow)
	c.get(cacheKey(1), jwtNow)
	c.get(cacheKey(0), jwtNow)
	later := jwtNow.Add(time.Minute)
	c.put(cacheKey(2), &Principal{}, until, later)
	if _, ok := c.get(cacheKey(1), later); !ok {
		t.Error("a live entry was evicted while an expired one remained")
	}

	c.purge()
	if c.len() != 0 {
		t.Errorf("purge left %d entries", c.len())
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.CacheSize, cfg.Revocation = 2, NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 10})
	v := newTestVerifier(t, cfg)
	toks := []string{validRS256(t, map[string]any{"jti": "1"}), validRS256(t, map[string]any{"jti": "2"}), validRS256(t, map[string]any{"jti": "3"})}
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for i := range 20 {
				if _, e := v.Verify(context.Background(), toks[(g+i)%len(toks)]); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
