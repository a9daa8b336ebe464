package resilience

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys bounds a MemoryStore built with a non-positive maxKeys.
const DefaultMaxKeys = 100_000

const (
	memoryShards = 64 // enough to keep lock contention low on many cores
	evictSample  = 16 // entries examined to pick a victim when no key is idle
)

// MemoryStore is a Store that keeps each key's GCRA state — one int64 — in
// this process. It is sharded by key hash, one mutex per shard, and bounded:
// it never holds more than its maxKeys.
//
// When a shard is full, a new key first makes room by dropping every idle key
// (one whose bucket is full again, so forgetting it changes no decision). If
// no key is idle it drops the key, among a small random sample, that will be
// idle soonest: that key carries the least debt, so forgetting it grants the
// least extra. Refusing new keys instead would let a flood of addresses lock
// out every newcomer.
type MemoryStore struct {
	seed   maphash.Seed
	shards []memoryShard
	start  time.Time
	clock  func() int64 // nanoseconds on a test's clock; nil means time.Since(start)
}

type memoryShard struct {
	mu   sync.Mutex
	tats map[string]int64
	max  int
	// sweepAt is a lower bound on the moment the first stored key turns
	// idle; a full shard sweeps for idle keys only once it has passed, so a
	// shard full of active keys does not rescan itself on every insert.
	sweepAt int64
	_       [32]byte // keep neighbouring shards' locks off one cache line
}

// NewMemoryStore returns a MemoryStore holding at most maxKeys keys
// (DefaultMaxKeys when maxKeys ≤ 0).
func NewMemoryStore(maxKeys int) *MemoryStore {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	n := memoryShards
	if maxKeys < n {
		n = 1
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), shards: make([]memoryShard, n), start: time.Now()}
	for i := range s.shards {
		s.shards[i].tats = make(map[string]int64)
		s.shards[i].max = maxKeys / n
	}
	return s
}

// Name returns "memory".
func (*MemoryStore) Name() string { return "memory" }

// Allow decides n requests for key under l in this process alone.
func (s *MemoryStore) Allow(_ context.Context, key string, l Limit, n int) (Result, error) {
	if err := checkRequest(l, n); err != nil {
		return Result{}, err
	}
	now := s.now()
	sh := &s.shards[maphash.String(s.seed, key)&uint64(len(s.shards)-1)] // a power of two
	sh.mu.Lock()
	tat, ok := sh.tats[key]
	newTAT, res := gcra(tat, now, l, n)
	if res.Allowed {
		if !ok && len(sh.tats) >= sh.max {
			sh.makeRoom(now)
		}
		sh.tats[key] = newTAT
		sh.sweepAt = min(sh.sweepAt, newTAT)
	}
	sh.mu.Unlock()
	return res, nil
}

// now reads the store's monotonic clock; a direct call rather than a
// closure keeps a decision within its 100 ns budget.
func (s *MemoryStore) now() int64 {
	if s.clock != nil {
		return s.clock()
	}
	return int64(time.Since(s.start))
}

// Len returns the number of keys held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].tats)
		s.shards[i].mu.Unlock()
	}
	return n
}

// makeRoom frees at least one slot in a full shard. Called with mu held.
func (sh *memoryShard) makeRoom(now int64) {
	if now >= sh.sweepAt {
		next := int64(1<<63 - 1)
		for k, tat := range sh.tats {
			if tat <= now {
				delete(sh.tats, k)
			} else {
				next = min(next, tat)
			}
		}
		sh.sweepAt = next
		if len(sh.tats) < sh.max {
			return
		}
	}
	// Map iteration starts at a random entry, so the first few make a
	// cheap random sample.
	victim, soonest, seen := "", int64(1<<63-1), 0
	for k, tat := range sh.tats {
		if tat < soonest {
			victim, soonest = k, tat
		}
		if seen++; seen == evictSample {
			break
		}
	}
	delete(sh.tats, victim)
}
