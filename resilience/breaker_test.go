package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/problem"
)

func TestCircuitBreakerLifecycle(t *testing.T) {
	log := newStateLog()
	var fail atomic.Bool
	var calls atomic.Int64
	e := newTestEcho(CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 0.5, MinRequests: 4, OpenTimeout: 50 * time.Millisecond, HalfOpenRequests: 2},
		Logger:          slog.New(log),
	}))
	e.GET("/orders", func(c echo.Context) error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("database down")
		}
		return c.String(http.StatusOK, "ok")
	})

	// Closed: two successes and two failures reach the ratio at the minimum.
	for i, wantFail := range []bool{false, true, false, true} {
		fail.Store(wantFail)
		if w := serve(e, http.MethodGet, "/orders"); (w.Code == http.StatusInternalServerError) != wantFail {
			t.Fatalf("request %d: status %d", i, w.Code)
		}
	}
	if to, level := log.next(t); to != "open" || level != slog.LevelWarn {
		t.Fatalf("first change to %q at %v, want open at WARN", to, level)
	}

	// Open: refused without reaching the handler.
	before := calls.Load()
	w := serve(e, http.MethodGet, "/orders")
	assertProblem(t, w, http.StatusServiceUnavailable)
	if secs, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds ≥ 1", w.Header().Get("Retry-After"))
	}
	if calls.Load() != before {
		t.Fatal("an open breaker let a request through")
	}

	// Half-open after OpenTimeout: probes go through; two successes close it.
	fail.Store(false)
	for serve(e, http.MethodGet, "/orders").Code != http.StatusOK {
		time.Sleep(5 * time.Millisecond) // polling for the state; nothing asserts on time
	}
	if to, _ := log.next(t); to != "half-open" {
		t.Fatalf("second change to %q, want half-open", to)
	}
	if w := serve(e, http.MethodGet, "/orders"); w.Code != http.StatusOK {
		t.Fatalf("second probe: status %d", w.Code)
	}
	if to, level := log.next(t); to != "closed" || level != slog.LevelInfo {
		t.Fatalf("third change to %q at %v, want closed at INFO", to, level)
	}
}

func TestCircuitBreakerHalfOpenFailureReopens(t *testing.T) {
	log := newStateLog()
	e := newTestEcho(CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: 20 * time.Millisecond},
		Logger:          slog.New(log),
	}))
	e.GET("/", func(echo.Context) error { return echo.ErrBadGateway })
	serve(e, http.MethodGet, "/")
	if to, _ := log.next(t); to != "open" {
		t.Fatalf("got %q, want open", to)
	}
	for serve(e, http.MethodGet, "/").Code != http.StatusBadGateway {
		time.Sleep(5 * time.Millisecond)
	}
	for _, want := range []string{"half-open", "open"} {
		if to, _ := log.next(t); to != want {
			t.Fatalf("got %q, want %q", to, want)
		}
	}
}

// TestCircuitBreakerOutcomes runs one request per case through a breaker
// that trips on a single failure, and checks whether the next is refused.
func TestCircuitBreakerOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		handler echo.HandlerFunc
		trips   bool
	}{
		{"200", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, false},
		{"written 500", func(c echo.Context) error { return c.NoContent(http.StatusInternalServerError) }, true},
		{"written 404", func(c echo.Context) error { return c.NoContent(http.StatusNotFound) }, false},
		{"plain error", func(echo.Context) error { return errors.New("boom") }, true},
		{"echo 400", func(echo.Context) error { return echo.ErrBadRequest }, false},
		{"echo 503", func(echo.Context) error { return echo.ErrServiceUnavailable }, true},
		{"echo wrapping echo 409", func(echo.Context) error {
			return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(echo.NewHTTPError(http.StatusConflict))
		}, false},
		{"problem 429", func(echo.Context) error { return problem.NewError(http.StatusTooManyRequests, "") }, false},
		{"problem 504", func(echo.Context) error { return problem.NewError(http.StatusGatewayTimeout, "") }, true},
		{"body too large", func(echo.Context) error { return &http.MaxBytesError{Limit: 1} }, false},
		{"deadline", func(echo.Context) error { return context.DeadlineExceeded }, true},
		{"panic", func(echo.Context) error { panic("bug") }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEcho(middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: discardLogger}), CircuitBreakerWithConfig(BreakerConfig{
				BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: time.Hour},
				Logger:          slog.New(newStateLog()),
			}))
			e.GET("/", tc.handler)
			serve(e, http.MethodGet, "/")
			w := serve(e, http.MethodGet, "/")
			refused := w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") != ""
			if refused != tc.trips {
				t.Fatalf("refused = %v, want %v (status %d)", refused, tc.trips, w.Code)
			}
		})
	}
}

func TestCircuitBreakerCountsTimeouts(t *testing.T) {
	// 100 ms, not 1: the first request waits it out, and the open
	// breaker's refusal of the second must come before it fires even on a
	// loaded machine (with 1 ms the timeout's own 503 sometimes won).
	e := newTestEcho(middleware.Timeout(100*time.Millisecond), CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: time.Hour},
		Logger:          slog.New(newStateLog()),
	}))
	var calls atomic.Int64
	e.GET("/", func(c echo.Context) error {
		if calls.Add(1) > 1 {
			return c.NoContent(http.StatusOK)
		}
		<-c.Request().Context().Done()
		return c.Request().Context().Err()
	})
	if w := serve(e, http.MethodGet, "/"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("timed-out request: status %d, want 503", w.Code)
	}
	assertProblem(t, serve(e, http.MethodGet, "/"), http.StatusServiceUnavailable)
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1: the timeout did not trip the breaker", calls.Load())
	}
}

func TestCircuitBreakerIgnoresAbandonedRequests(t *testing.T) {
	e := newTestEcho(CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: time.Hour},
		Logger:          slog.New(newStateLog()),
	}))
	e.GET("/", func(c echo.Context) error {
		if err := c.Request().Context().Err(); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if w := serve(e, http.MethodGet, "/"); w.Code != http.StatusOK {
		t.Fatalf("status %d: a client hanging up tripped the breaker", w.Code)
	}
}

// TestCircuitBreakerIgnoresClientFaults: a request the client made fail
// counts as neither success nor failure, whatever the handler rendered, so
// that no client can open a breaker; a server fault beside them still does.
func TestCircuitBreakerIgnoresClientFaults(t *testing.T) {
	cases := []struct {
		name    string
		body    io.Reader
		cancel  bool
		handler echo.HandlerFunc
	}{
		{name: "marked, the handler's own 500", handler: func(c echo.Context) error {
			reqinfo.FromContext(c.Request().Context()).SetClientFault()
			return errors.New("boom")
		}},
		{name: "marked, a written 500", handler: func(c echo.Context) error {
			reqinfo.FromContext(c.Request().Context()).SetClientFault()
			return c.NoContent(http.StatusInternalServerError)
		}},
		{name: "body cut short, hidden in a 500", body: io.MultiReader(strings.NewReader("{"), iotest.ErrReader(io.ErrUnexpectedEOF)), handler: func(c echo.Context) error {
			if _, err := io.ReadAll(c.Request().Body); err != nil {
				return fmt.Errorf("reading the body: %v", err)
			}
			return nil
		}},
		{name: "client gone, the handler's own 500", cancel: true, handler: func(c echo.Context) error {
			<-c.Request().Context().Done()
			return errors.New("dependency call abandoned")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEcho(middleware.RequestID(), middleware.BodyLimit(0), CircuitBreakerWithConfig(BreakerConfig{
				BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: time.Hour},
				Logger:          slog.New(newStateLog()),
			}))
			e.POST("/", tc.handler)
			e.GET("/fail", func(echo.Context) error { return errors.New("dependency down") })
			for range 5 {
				r := httptest.NewRequest(http.MethodPost, "/", tc.body)
				if tc.cancel {
					ctx, cancel := context.WithCancel(r.Context())
					cancel()
					r = r.WithContext(ctx)
				}
				e.ServeHTTP(httptest.NewRecorder(), r)
			}
			if w := serve(e, http.MethodGet, "/fail"); w.Code != http.StatusInternalServerError {
				t.Fatalf("after 5 client faults a server fault got %d, want 500: the breaker counted them", w.Code)
			}
			assertProblem(t, serve(e, http.MethodGet, "/fail"), http.StatusServiceUnavailable)
		})
	}
}

func TestCircuitBreakerPerGroup(t *testing.T) {
	e := newTestEcho(CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: time.Hour},
		Group:           func(_, route string) string { return route },
		Logger:          slog.New(newStateLog()),
	}))
	e.GET("/a", func(echo.Context) error { return echo.ErrInternalServerError })
	e.GET("/b", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	serve(e, http.MethodGet, "/a")
	assertProblem(t, serve(e, http.MethodGet, "/a"), http.StatusServiceUnavailable)
	if w := serve(e, http.MethodGet, "/b"); w.Code != http.StatusOK {
		t.Fatalf("group b: status %d, want 200", w.Code)
	}
}
