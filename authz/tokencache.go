package authz

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// tokenCache remembers verified tokens, keyed by the SHA-256 of the token
// (the token itself is never stored). It is bounded, and evicts with CLOCK
// (second chance): a hit only sets a flag under a read lock, so hits on
// different goroutines do not serialise the way an LRU's move-to-front
// would. It is split into shards by the hash's first byte to spread
// contention on inserts.
type tokenCache struct {
	shards []cacheShard
	mask   byte
}

type cacheShard struct {
	mu      sync.RWMutex
	index   map[[sha256.Size]byte]int
	entries []cacheEntry
	hand    int
	size    int
}

type cacheEntry struct {
	key   [sha256.Size]byte
	p     *Principal
	until time.Time // the verdict holds while now is before until
	used  atomic.Bool
}

// minPerShard keeps small caches in one shard so that their bound is exact.
const (
	maxShards   = 16
	minPerShard = 64
)

func newTokenCache(size int) *tokenCache {
	n := 1
	for n < maxShards && size/(n*2) >= minPerShard {
		n *= 2
	}
	c := &tokenCache{shards: make([]cacheShard, n), mask: byte(n - 1)}
	for i := range c.shards {
		per := size / n
		if i < size%n {
			per++
		}
		c.shards[i] = cacheShard{index: make(map[[sha256.Size]byte]int, per), entries: make([]cacheEntry, 0, per), size: per}
	}
	return c
}

func (c *tokenCache) shard(key *[sha256.Size]byte) *cacheShard {
	return &c.shards[key[0]&c.mask]
}

// get returns the principal cached for key while now is before its until.
func (c *tokenCache) get(key *[sha256.Size]byte, now time.Time) (*Principal, bool) {
	s := c.shard(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.index[*key]
	if !ok {
		return nil, false
	}
	e := &s.entries[i]
	if !now.Before(e.until) {
		return nil, false
	}
	e.used.Store(true)
	return e.p, true
}

// put caches p for key until until, evicting an entry if the shard is full:
// the first one the clock hand finds unused since its last pass, or expired.
func (c *tokenCache) put(key *[sha256.Size]byte, p *Principal, until, now time.Time) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[*key]; ok {
		s.entries[i].p, s.entries[i].until = p, until
		return
	}
	if len(s.entries) < s.size {
		s.index[*key] = len(s.entries)
		s.entries = append(s.entries, cacheEntry{key: *key, p: p, until: until})
		return
	}
	for {
		e := &s.entries[s.hand]
		if e.used.Load() && now.Before(e.until) {
			e.used.Store(false)
			s.hand = (s.hand + 1) % len(s.entries)
			continue
		}
		delete(s.index, e.key)
		e.key, e.p, e.until = *key, p, until
		e.used.Store(false)
		s.index[*key] = s.hand
		s.hand = (s.hand + 1) % len(s.entries)
		return
	}
}

// purge empties the cache.
func (c *tokenCache) purge() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.index)
		s.entries = s.entries[:0]
		s.hand = 0
		s.mu.Unlock()
	}
}

// len returns the number of entries held.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
