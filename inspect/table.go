package inspect

import (
	"container/list"
	"math"
	"math/bits"
	"time"
	"unsafe"
)

// histBuckets time processing in buckets of √2 from 1 µs: bucket i holds
// durations up to 2^(i/2) µs, the last one (2^20 µs, about 17 minutes)
// everything longer. A p99 read from it is within a factor of √2.
const histBuckets = 41

// rateWindow is the span a rate is counted over.
const rateWindow = 10 * time.Second

// ActorFigures are what the inspector measured of one actor, estimated
// from the traced messages (each counting for 1/rate messages) except for
// restarts and dead letters, which are all counted.
type ActorFigures struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Messages is the estimated number of messages processed.
	Messages float64 `json:"messages"`
	// Rate is the estimated messages per second over the last 10 to 20 s.
	Rate float64 `json:"rate"`
	// P99 is the 99th percentile of processing time, within a factor √2.
	P99 time.Duration `json:"p99_ns"`
	// MeanWait is the mean time a traced message waited in the mailbox.
	MeanWait    time.Duration `json:"mean_wait_ns"`
	Traced      uint64        `json:"traced"`
	Failures    uint64        `json:"failures"`
	Restarts    uint64        `json:"restarts"`
	DeadLetters uint64        `json:"dead_letters"`
	LastError   string        `json:"last_error,omitempty"`
	LastSeen    time.Time     `json:"last_seen"`
}

// actorStats is the running state behind an actor's figures.
type actorStats struct {
	ActorFigures
	hist       [histBuckets]uint32
	waitSum    time.Duration
	window     time.Time // start of the current rate window
	cur, prev  float64   // estimated messages in the current and previous window
	prevLength time.Duration
	elem       *list.Element
}

// table keeps the figures of at most max actors, dropping the least
// recently active one to make room.
type table struct {
	max     int
	byID    map[uint64]*actorStats
	lru     list.List // front: most recently active
	evicted uint64
}

func newTable(max int) *table { return &table{max: max, byID: make(map[uint64]*actorStats)} }

// actorStatsSize is what one tracked actor costs, the map entry included.
const actorStatsSize = int(unsafe.Sizeof(actorStats{})) + int(unsafe.Sizeof(list.Element{})) + 48

// get returns id's figures, making room for them if new.
func (t *table) get(id uint64, name, kind string, now time.Time) *actorStats {
	s := t.byID[id]
	if s == nil {
		if len(t.byID) >= t.max {
			t.evict(t.lru.Back())
			t.evicted++
		}
		s = &actorStats{ActorFigures: ActorFigures{ID: id, Name: name, Kind: kind}, window: now}
		s.elem = t.lru.PushFront(s)
		t.byID[id] = s
	} else {
		t.lru.MoveToFront(s.elem)
	}
	s.LastSeen = now
	return s
}

func (t *table) evict(e *list.Element) {
	s := t.lru.Remove(e).(*actorStats)
	delete(t.byID, s.ID)
}

// expire drops the actors idle since before cutoff.
func (t *table) expire(cutoff time.Time) {
	for e := t.lru.Back(); e != nil && e.Value.(*actorStats).LastSeen.Before(cutoff); e = t.lru.Back() {
		t.evict(e)
	}
}

// message adds one traced message, weighing weight messages.
func (s *actorStats) message(now time.Time, wait, processing time.Duration, weight float64, failed bool) {
	s.Traced++
	s.Messages += weight
	s.waitSum += wait
	s.hist[bucket(processing)]++
	if failed {
		s.Failures++
	}
	if d := now.Sub(s.window); d >= rateWindow {
		s.prev, s.prevLength, s.cur, s.window = s.cur, min(d, 2*rateWindow), 0, now
		if d >= 2*rateWindow {
			s.prev = 0 // a whole window passed without a message
		}
	}
	s.cur += weight
}

// figures returns the figures as of now.
func (s *actorStats) figures(now time.Time) ActorFigures {
	f := s.ActorFigures
	if s.Traced > 0 {
		f.MeanWait = s.waitSum / time.Duration(s.Traced)
		f.P99 = s.p99()
	}
	if span := now.Sub(s.window) + s.prevLength; span > 0 && now.Sub(s.window) < 2*rateWindow {
		f.Rate = (s.cur + s.prev) / span.Seconds()
	}
	return f
}

func (s *actorStats) p99() time.Duration {
	need := uint64(math.Ceil(0.99 * float64(s.Traced)))
	var seen uint64
	for i, n := range s.hist {
		if seen += uint64(n); seen >= need {
			return bucketBound(i)
		}
	}
	return bucketBound(histBuckets - 1)
}

// bucket is the histogram bucket of d: ⌈2·log₂(d/1µs)⌉, the smallest k
// with d² ≤ 2^k µs², which integers compute exactly while d² fits in 64
// bits (d up to 4.29 s). math.Log2 took a quarter of recording a traced
// message that ran over a microsecond (BenchmarkRecord); longer ones take
// the float path.
func bucket(d time.Duration) int {
	switch {
	case d <= time.Microsecond:
		return 0
	case d >= maxExactBucket:
		return min(histBuckets-1, int(math.Ceil(2*math.Log2(float64(d)/float64(time.Microsecond)))))
	}
	ns := uint64(d)
	return min(histBuckets-1, bits.Len64((ns*ns-1)/1e6))
}

// maxExactBucket is the shortest duration bucket leaves to floats: its
// square would not fit in a uint64.
const maxExactBucket = 4 * time.Second

// bucketBound is the upper bound of bucket i.
func bucketBound(i int) time.Duration {
	return time.Duration(math.Pow(2, float64(i)/2) * float64(time.Microsecond))
}
