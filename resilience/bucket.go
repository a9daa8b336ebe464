package resilience

import "time"

// Bucket is the GCRA state of one key that its owner keeps itself rather
// than in a Store: a WebSocket connection's inbound message rate, whose key
// lives exactly as long as the connection. It decides like MemoryStore —
// the same gcra function — without the shard lookup and lock, which cost
// more than the decision when the owner is the only caller.
//
// The zero value is a full bucket. A Bucket is not safe for concurrent use:
// it belongs to one goroutine, such as a connection's reader.
type Bucket struct {
	tat int64
}

// Allow spends n of the bucket's budget under l at now, a reading of any
// monotonic clock that only moves forward (time.Since of a fixed origin),
// and reports the decision. Like Store.Allow it refuses an invalid limit or
// a cost outside 1..burst with an error instead of deciding.
func (b *Bucket) Allow(now time.Duration, l Limit, n int) (Result, error) {
	if err := checkRequest(l, n); err != nil {
		return Result{}, err
	}
	tat, res := gcra(b.tat, int64(now), l, n)
	b.tat = tat
	return res, nil
}
