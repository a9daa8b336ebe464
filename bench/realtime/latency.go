package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// latencyResult is a latency distribution and what it cost the server.
type latencyResult struct {
	expected, got int64
	p50, p99, max time.Duration
	cpuPerMsg     time.Duration // server CPU time per message received by a client
}

// recorder collects the latencies of stamped messages whose stamp falls in
// [from, to): the warm-up and the stragglers stay out.
type recorder struct {
	from, to atomic.Int64
	mu       sync.Mutex
	hist     *histogram.Histogram
	count    atomic.Int64
}

func newRecorder(from, to time.Time) *recorder {
	r := &recorder{hist: histogram.New()}
	r.window(from, to)
	return r
}

// window sets the stamps recorded from now on.
func (r *recorder) window(from, to time.Time) {
	r.from.Store(from.UnixNano())
	r.to.Store(to.UnixNano())
}

// got records a message stamped ts that arrived at at.
func (r *recorder) got(ts int64, at time.Time) {
	if ts < r.from.Load() || ts >= r.to.Load() {
		return
	}
	d := at.Sub(time.Unix(0, ts))
	r.mu.Lock()
	r.hist.Record(d)
	r.mu.Unlock()
	r.count.Add(1)
}

// waitFor waits until n messages were recorded or within has passed.
func (r *recorder) waitFor(n int64, within time.Duration) {
	deadline := time.Now().Add(within)
	for r.count.Load() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// result summarises the recorded latencies; cpu is the server's CPU time
// over the measurement.
func (r *recorder) result(expected int64, cpu time.Duration) latencyResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := latencyResult{expected: expected, got: r.count.Load(),
		p50: r.hist.Quantile(0.5), p99: r.hist.Quantile(0.99), max: r.hist.Quantile(1)}
	if res.got > 0 {
		res.cpuPerMsg = cpu / time.Duration(res.got)
	}
	return res
}
