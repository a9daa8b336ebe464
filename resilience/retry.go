package resilience

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// idempotentMethods may be repeated without changing the outcome
// (RFC 9110 §9.2.2), so a failed attempt can be retried.
var idempotentMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodOptions: true,
	http.MethodPut: true, http.MethodDelete: true, http.MethodTrace: true,
}

// retryable reports whether req may be sent again: its method is idempotent
// or it carries an Idempotency-Key, and its body can be produced anew.
func retryable(req *http.Request) bool {
	if !idempotentMethods[req.Method] && req.Header.Get("Idempotency-Key") == "" {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// retryStatus reports whether a response with status is worth retrying:
// the server or a proxy in front of it is overloaded or restarting.
func retryStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// fullJitter is the wait before retry n (0 for the first retry): uniform in
// [0, min(ceiling, base·2ⁿ)], AWS's "full jitter", which spreads the
// retries of many clients so they do not arrive together.
func fullJitter(n int, base, ceiling time.Duration, randN func(int64) int64) time.Duration {
	d := ceiling
	if n < 62 && base <= ceiling>>n {
		d = base << n
	}
	return time.Duration(randN(int64(d) + 1))
}

// parseRetryAfter reads a Retry-After field value (RFC 9110 §10.2.3):
// delay-seconds or an HTTP-date, the latter relative to now. A date in the
// past is a zero wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, false
		}
		if secs > math.MaxInt64/uint64(time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryBudgetTTL is how long unused retry allowance is kept: the budget
// holds at most minPerSecond·retryBudgetTTL tokens, as Finagle's
// RetryBudget remembers deposits for ten seconds.
const retryBudgetTTL = 10 * time.Second

// retryBudget caps retries at a share of requests so that retries cannot
// multiply the load on a dependency that is already failing: every request
// deposits ratio tokens, every retry withdraws one, and minPerSecond tokens
// accrue each second regardless, so a client making few calls can still
// retry. It is a token bucket in the manner of gRPC's retry throttling and
// Finagle's RetryBudget.
type retryBudget struct {
	ratio, minPerSecond, capacity float64
	now                           func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRetryBudget(ratio, minPerSecond float64, now func() time.Time) *retryBudget {
	return &retryBudget{
		ratio: ratio, minPerSecond: minPerSecond,
		capacity: max(minPerSecond*retryBudgetTTL.Seconds(), 1),
		now:      now,
		tokens:   minPerSecond,
		last:     now(),
	}
}

// deposit records one request.
func (b *retryBudget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.capacity, b.tokens+b.ratio)
	b.mu.Unlock()
}

// withdraw takes the allowance for one retry, reporting whether there was
// any.
func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.capacity, b.tokens+elapsed.Seconds()*b.minPerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
