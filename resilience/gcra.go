package resilience

import "time"

// gcra decides one request of cost n at time now (nanoseconds on any
// monotonic clock) for a key whose theoretical arrival time is tat, and
// returns the key's new TAT with the result. It is the same algorithm as
// redis_rate's Lua script, in integers: a request is allowed when the TAT
// it would leave behind is no more than burst intervals ahead of now.
//
// The TAT is the whole per-key state: the moment the key's bucket would be
// full again. A TAT in the past means the key is idle (a full burst is
// available), which is what lets stores forget such keys.
func gcra(tat, now int64, l Limit, n int) (int64, Result) {
	interval := int64(l.interval())
	burstOffset := interval * int64(l.burst())
	tat = max(tat, now)
	newTAT := tat + interval*int64(n)
	allowAt := newTAT - burstOffset
	if now < allowAt {
		return tat, Result{
			Limit:      l,
			Remaining:  int((burstOffset - (tat - now)) / interval),
			RetryAfter: time.Duration(allowAt - now),
			ResetAfter: time.Duration(tat - now),
		}
	}
	return newTAT, Result{
		Allowed:    true,
		Limit:      l,
		Remaining:  int((burstOffset - (newTAT - now)) / interval),
		ResetAfter: time.Duration(newTAT - now),
	}
}
