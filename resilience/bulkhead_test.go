package resilience

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/goleak"
)

// gatedEcho serves GET /a and /b with a handler that signals entered and
// then blocks until gate is closed.
func gatedEcho(cfg BulkheadConfig) (e *echo.Echo, entered chan struct{}, gate chan struct{}) {
	entered, gate = make(chan struct{}, 16), make(chan struct{})
	e = newTestEcho(BulkheadWithConfig(cfg))
	h := func(c echo.Context) error {
		entered <- struct{}{}
		<-gate
		return c.NoContent(http.StatusOK)
	}
	e.GET("/a", h)
	e.GET("/b", h)
	e.GET("/c", h)
	return e, entered, gate
}

// inBackground serves n requests to target concurrently; wait returns their
// statuses.
func inBackground(e *echo.Echo, n int, target string) (wait func() []int) {
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = serve(e, http.MethodGet, target).Code })
	}
	return func() []int { wg.Wait(); return codes }
}

func TestBulkheadRejectsBeyondCapacity(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{MaxConcurrent: 2})
	wait := inBackground(e, 2, "/a")
	<-entered
	<-entered

	assertProblem(t, serve(e, http.MethodGet, "/a"), http.StatusServiceUnavailable)

	close(gate)
	for i, code := range wait() {
		if code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, code)
		}
	}
	if w := serve(e, http.MethodGet, "/a"); w.Code != http.StatusOK {
		t.Fatalf("after release: status %d", w.Code)
	}
}

func TestBulkheadQueuesUpToMaxWait(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{MaxConcurrent: 1, MaxWait: time.Hour})
	first := inBackground(e, 1, "/a")
	<-entered
	queued := inBackground(e, 1, "/a") // waits for the first's slot
	close(gate)
	if c := first()[0]; c != http.StatusOK {
		t.Fatalf("first: %d", c)
	}
	if c := queued()[0]; c != http.StatusOK {
		t.Fatalf("queued: %d", c)
	}
}

func TestBulkheadWaitEndsWithRequest(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{MaxConcurrent: 1, MaxWait: time.Hour})
	first := inBackground(e, 1, "/a")
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/a", nil).WithContext(ctx))
	assertProblem(t, w, http.StatusServiceUnavailable)
	close(gate)
	first()
}

func TestBulkheadGroupsAreIndependent(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{MaxConcurrent: 1, Group: func(_, route string) string { return route }})
	first := inBackground(e, 1, "/a")
	<-entered
	second := inBackground(e, 1, "/b")
	<-entered // /b got a slot of its own while /a is full
	assertProblem(t, serve(e, http.MethodGet, "/a"), http.StatusServiceUnavailable)
	close(gate)
	first()
	second()
}

func TestBulkheadDisabled(t *testing.T) {
	e, entered, gate := gatedEcho(BulkheadConfig{})
	wait := inBackground(e, 8, "/a")
	for range 8 {
		<-entered
	}
	close(gate)
	for _, c := range wait() {
		if c != http.StatusOK {
			t.Fatalf("status %d with the bulkhead off", c)
		}
	}
}

// byRoute puts each route in a group of its own, named by the route
// without its slash.
func byRoute(_, route string) string { return route[1:] }

// TestBulkheadGroupSizes sizes group a by Groups, exempts group c with a
// zero, and leaves b to MaxConcurrent.
func TestBulkheadGroupSizes(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{MaxConcurrent: 1, Groups: map[string]int{"a": 2, "c": 0}, Group: byRoute})
	a, b, c := inBackground(e, 2, "/a"), inBackground(e, 1, "/b"), inBackground(e, 3, "/c")
	for range 6 {
		<-entered
	}
	assertProblem(t, serve(e, http.MethodGet, "/a"), http.StatusServiceUnavailable)
	assertProblem(t, serve(e, http.MethodGet, "/b"), http.StatusServiceUnavailable)
	close(gate)
	for _, codes := range [][]int{a(), b(), c()} {
		for _, code := range codes {
			if code != http.StatusOK {
				t.Fatalf("admitted request: status %d", code)
			}
		}
	}
}

// TestBulkheadOnlyGroups bounds group a alone: with MaxConcurrent zero the
// other groups have no bulkhead.
func TestBulkheadOnlyGroups(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, entered, gate := gatedEcho(BulkheadConfig{Groups: map[string]int{"a": 1}, Group: byRoute})
	a, b := inBackground(e, 1, "/a"), inBackground(e, 4, "/b")
	for range 5 {
		<-entered
	}
	assertProblem(t, serve(e, http.MethodGet, "/a"), http.StatusServiceUnavailable)
	close(gate)
	a()
	for _, code := range b() {
		if code != http.StatusOK {
			t.Fatalf("unbounded group: status %d", code)
		}
	}
}
