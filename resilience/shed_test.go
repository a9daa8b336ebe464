package resilience

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// shedClock advances by tick on every reading, so each request seems to
// take a little time, plus whatever the test adds.
type shedClock struct {
	ns   atomic.Int64
	tick time.Duration
}

func (c *shedClock) Now() time.Time          { return time.Unix(0, c.ns.Add(int64(c.tick))) }
func (c *shedClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestGradientLimit(t *testing.T) {
	g := gradientLimit{window: time.Second, minLimit: 5, maxLimit: 50, estimate: 20}
	now := time.Unix(0, 0)
	// window feeds one window of shedMinSamples requests at rtt and
	// inflight, and returns the new limit.
	window := func(rtt time.Duration, inflight int) int {
		t.Helper()
		for range shedMinSamples - 1 {
			if _, changed := g.sample(rtt, inflight, now); changed {
				t.Fatal("window closed early")
			}
		}
		now = now.Add(time.Second)
		limit, changed := g.sample(rtt, inflight, now)
		if !changed {
			t.Fatal("window did not close")
		}
		return limit
	}
	if l := window(10*time.Millisecond, 1); l != 20 {
		t.Fatalf("idle service: limit %d, want 20 unchanged", l)
	}
	window(10*time.Millisecond, 20)
	prev := window(10*time.Millisecond, 20)
	if prev <= 20 {
		t.Fatalf("busy at baseline latency: limit %d, want growth", prev)
	}
	for range 20 {
		l := window(200*time.Millisecond, 50)
		if l > prev {
			t.Fatalf("latency 20× the baseline: limit rose from %d to %d", prev, l)
		}
		prev = l
	}
	// gradient·limit + queueSize settles at 2·queueSize while the gradient
	// is 0.5, above MinLimit here.
	if prev > 2*shedQueueSize+1 {
		t.Fatalf("sustained overload: limit %d, want about %d", prev, 2*shedQueueSize)
	}
	for range 200 {
		prev = window(10*time.Millisecond, prev)
	}
	if prev != 50 {
		t.Fatalf("after the overload: limit %d, want the maximum 50", prev)
	}
}

// TestLoadSheddingEngagesAndReleases drives waves of concurrent requests
// through the middleware: slow waves shrink the limit until requests are
// shed, fast waves afterwards let it recover until none are.
func TestLoadSheddingEngagesAndReleases(t *testing.T) {
	clock := &shedClock{tick: time.Millisecond}
	const initial, concurrency = 20, 30
	var slow atomic.Bool
	var (
		mu      sync.Mutex
		entered int
		gate    = make(chan struct{})
	)
	e := newTestEcho(LoadSheddingWithConfig(SheddingConfig{InitialLimit: initial, MinLimit: 2, MaxLimit: 40, Window: time.Millisecond, Now: clock.Now}))
	e.GET("/", func(c echo.Context) error {
		mu.Lock()
		entered++
		g := gate
		mu.Unlock()
		<-g
		if slow.Load() {
			clock.Advance(time.Second)
		}
		return c.NoContent(http.StatusOK)
	})
	// wave sends concurrency requests at once, holding the admitted ones in
	// the handler until every request has been admitted or shed, and
	// returns how many were shed.
	wave := func() (shed int) {
		mu.Lock()
		entered, gate = 0, make(chan struct{})
		g := gate
		mu.Unlock()
		var rejected atomic.Int64
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				if w := serve(e, http.MethodGet, "/"); w.Code != http.StatusOK {
					assertProblem(t, w, http.StatusServiceUnavailable)
					rejected.Add(1)
				}
			})
		}
		for {
			mu.Lock()
			n := entered
			mu.Unlock()
			if n+int(rejected.Load()) == concurrency {
				break
			}
			time.Sleep(time.Millisecond) // polling for arrival; nothing asserts on time
		}
		close(g)
		wg.Wait()
		return int(rejected.Load())
	}

	// Even a healthy service sheds what is past its initial limit.
	if shed := wave(); shed != concurrency-initial {
		t.Fatalf("first wave: %d shed, want %d", shed, concurrency-initial)
	}
	slow.Store(true)
	var overloaded int
	for range 20 {
		overloaded = wave()
	}
	if overloaded <= concurrency-initial {
		t.Fatalf("under overload %d of %d shed, want more than the initial limit sheds", overloaded, concurrency)
	}
	slow.Store(false)
	released := false
	for range 300 {
		if wave() == 0 {
			released = true
			break
		}
	}
	if !released {
		t.Fatal("the limit never recovered after the overload")
	}
}
