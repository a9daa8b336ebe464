package resilience

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultLeaseSize is the lease a LeasingStore takes when given none: a
// twentieth of the Redis round trips, for at most 20 tokens of over-admission
// per instance.
const DefaultLeaseSize = 20

// LeasingStore is a Store that takes tokens from a RedisStore in batches
// ("leases") and spends them locally, so an instance asks Redis once per
// lease instead of once per request. A refusal is remembered until its
// Retry-After, so a refused client costs no round trips either.
//
// # Over-admission bound
//
// Redis hands out each token once, under the shared GCRA limit, so in any
// window of length W it grants at most burst + ⌈W/interval⌉ tokens fleet-wide,
// as a RedisStore would admit. What leasing adds is time-shifting: tokens
// leased before the window and spent inside it. An instance leases only when
// it holds fewer tokens than the request needs, so for single-token requests
// (the HTTP stage's) it never holds more than leaseSize. Hence in any window
// the fleet admits at most
//
//	burst + ⌈W/interval⌉ + instances × leaseSize
//
// an over-admission of at most instances × leaseSize per key. A lease also
// expires one Period after it was taken, so tokens never drift further
// than that; unspent expired tokens are lost, which under-admits by at most
// the same bound. Leasing therefore suits high limits (a global route limit
// of thousands per second), not 60-a-minute per-IP limits, where a lease of
// 20 would let one instance hold a third of a client's budget. The lease is
// capped at the limit's burst.
type LeasingStore struct {
	redis     *RedisStore
	leaseSize int
	seed      maphash.Seed
	shards    []leaseShard
	start     time.Time
	now       func() int64 // nanoseconds since start; replaced in tests
}

type leaseShard struct {
	mu      sync.Mutex
	entries map[string]*leaseEntry
	max     int
}

// leaseEntry is one key's local state. Its own mutex serialises the key's
// requests across the Redis call, so concurrent requests on one instance
// never take two leases at once (which would break the bound above).
type leaseEntry struct {
	mu          sync.Mutex
	tokens      int   // leased, unspent
	expires     int64 // when the unspent tokens lapse
	deniedUntil int64 // Redis refused; refuse locally until then
	remaining   int   // Redis's remaining budget when the lease was taken
	resetAt     int64 // when Redis said the key would be full again
}

// NewLeasingStore returns a LeasingStore over redis that leases leaseSize
// tokens at a time (DefaultLeaseSize when ≤ 0) and keeps state for at most
// maxKeys keys (DefaultMaxKeys when ≤ 0); a forgotten key loses its unspent
// tokens, never over-admits.
func NewLeasingStore(redis *RedisStore, leaseSize, maxKeys int) *LeasingStore {
	if leaseSize <= 0 {
		leaseSize = DefaultLeaseSize
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	n := memoryShards
	if maxKeys < n {
		n = 1
	}
	s := &LeasingStore{redis: redis, leaseSize: leaseSize, seed: maphash.MakeSeed(),
		shards: make([]leaseShard, n), start: time.Now()}
	s.now = func() int64 { return int64(time.Since(s.start)) }
	for i := range s.shards {
		s.shards[i].entries = make(map[string]*leaseEntry)
		s.shards[i].max = maxKeys / n
	}
	return s
}

// Name returns "redis": every token still comes from Redis.
func (*LeasingStore) Name() string { return "redis" }

// Allow spends n leased tokens of key, leasing more from Redis when the
// local ones do not cover n.
func (s *LeasingStore) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := checkRequest(l, n); err != nil {
		return Result{}, err
	}
	size := min(s.leaseSize, l.burst())
	if size <= 1 {
		return s.redis.Allow(ctx, key, l, n)
	}
	e := s.entry(key)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := s.now()
	if now >= e.expires {
		e.tokens = 0
	}
	if now < e.deniedUntil {
		return Result{Limit: l, RetryAfter: time.Duration(e.deniedUntil - now),
			ResetAfter: time.Duration(max(e.resetAt-now, 0))}, nil
	}
	if e.tokens < n {
		granted, res, err := s.redis.takeUpTo(ctx, key, l, max(size, n)-e.tokens)
		if err != nil {
			return Result{}, err
		}
		now = s.now()
		if granted == 0 {
			e.deniedUntil = now + int64(res.RetryAfter)
		} else {
			e.expires = now + int64(l.Period)
		}
		e.tokens += granted
		e.remaining = res.Remaining
		e.resetAt = now + int64(res.ResetAfter)
		if e.tokens < n {
			res.Allowed, res.Remaining = false, e.tokens+e.remaining
			res.RetryAfter = max(res.RetryAfter, time.Duration(n-e.tokens)*l.interval())
			return res, nil
		}
	}
	e.tokens -= n
	return Result{Allowed: true, Limit: l, Remaining: e.tokens + e.remaining,
		ResetAfter: time.Duration(max(e.resetAt-now, 0))}, nil
}

// entry returns key's state, creating it (and making room) if needed.
func (s *LeasingStore) entry(key string) *leaseEntry {
	sh := &s.shards[maphash.String(s.seed, key)&uint64(len(s.shards)-1)] // a power of two
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.entries[key]; ok {
		return e
	}
	if len(sh.entries) >= sh.max {
		sh.makeRoom(s.now())
	}
	e := &leaseEntry{}
	sh.entries[key] = e
	return e
}

// makeRoom drops every entry with nothing left to remember, or failing that
// an arbitrary one (map order is random). Called with mu held. Entry locks
// are only tried, never waited for: an entry busy in a Redis call counts as
// not idle, and dropping it is safe because its request keeps the pointer
// and the state merely stops being shared. The scan is linear, which suits
// the few high-limit keys leasing is meant for.
func (sh *leaseShard) makeRoom(now int64) {
	victim := ""
	for k, e := range sh.entries {
		idle := false
		if e.mu.TryLock() {
			idle = (e.tokens == 0 || now >= e.expires) && now >= e.deniedUntil
			e.mu.Unlock()
		}
		if idle {
			delete(sh.entries, k)
		} else if victim == "" {
			victim = k
		}
	}
	if len(sh.entries) >= sh.max {
		delete(sh.entries, victim)
	}
}
