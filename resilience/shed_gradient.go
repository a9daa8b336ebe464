package resilience

import (
	"math"
	"sync"
	"time"
)

// Constants of the gradient, Netflix concurrency-limits' Gradient2 defaults
// except the long window, which counts windows here, not single requests.
const (
	shedTolerance  = 1.5 // latency may grow this much over the baseline before the limit shrinks
	shedSmoothing  = 0.2 // weight of a new estimate against the current limit
	shedQueueSize  = 4   // headroom added to the limit so it can probe upwards
	shedLongWindow = 100 // windows averaged into the long-term RTT (≈10 s at 100 ms)
	shedMinSamples = 10  // requests a window needs before it updates the limit
)

// gradientLimit estimates the concurrency the service can take, after
// Netflix concurrency-limits' Gradient2 over a window of requests. Every
// window of at least Window and shedMinSamples requests gives the short
// RTT (the window's mean latency) and the highest in-flight count seen;
// then:
//
//	longRTT  = EMA of shortRTT over shedLongWindow windows
//	if longRTT/shortRTT > 2 { longRTT *= 0.95 }           // forget a past overload
//	if inflight < limit/2 { keep limit }                   // idle capacity proves nothing
//	gradient = clamp(tolerance·longRTT/shortRTT, 0.5, 1)   // queueing shows as rising RTT
//	limit    = (1-smoothing)·limit + smoothing·(gradient·limit + queueSize)
//	limit    = clamp(limit, MinLimit, MaxLimit)
//
// So while latency stays within tolerance of its baseline the limit grows by
// about smoothing·queueSize per busy window, and when requests start to
// queue it shrinks by up to 10% per window, never by more, so one slow
// outlier cannot halve capacity.
type gradientLimit struct {
	window             time.Duration
	minLimit, maxLimit float64

	mu          sync.Mutex
	estimate    float64
	longRTT     float64 // nanoseconds; 0 before the first window
	windowEnd   time.Time
	sumRTT      time.Duration
	samples     int
	maxInflight int
}

// sample adds one finished request that ran for rtt while inflight requests
// (itself included) were running. When it closes a window it returns the
// new limit and true.
func (g *gradientLimit) sample(rtt time.Duration, inflight int, now time.Time) (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sumRTT += rtt
	g.samples++
	g.maxInflight = max(g.maxInflight, inflight)
	if g.windowEnd.IsZero() {
		g.windowEnd = now.Add(g.window)
	}
	if now.Before(g.windowEnd) || g.samples < shedMinSamples {
		return 0, false
	}
	short := float64(g.sumRTT) / float64(g.samples)
	g.update(max(short, 1), g.maxInflight)
	g.windowEnd = now.Add(g.window)
	g.sumRTT, g.samples, g.maxInflight = 0, 0, 0
	return int(g.estimate), true
}

// update applies one window to the estimate; see gradientLimit.
func (g *gradientLimit) update(shortRTT float64, inflight int) {
	if g.longRTT == 0 {
		g.longRTT = shortRTT
	} else {
		g.longRTT += (shortRTT - g.longRTT) * 2 / (shedLongWindow + 1)
	}
	if g.longRTT/shortRTT > 2 {
		g.longRTT *= 0.95
	}
	if float64(inflight) < g.estimate/2 {
		return
	}
	gradient := math.Max(0.5, math.Min(1, shedTolerance*g.longRTT/shortRTT))
	next := g.estimate*gradient + shedQueueSize
	next = g.estimate*(1-shedSmoothing) + next*shedSmoothing
	g.estimate = math.Max(g.minLimit, math.Min(g.maxLimit, next))
}
