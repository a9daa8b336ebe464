package resilience

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

// discardLogger drops every record.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestEcho returns an Echo that renders errors as Troupe does, with mw
// around every route.
func newTestEcho(mw ...echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(discardLogger)
	e.Use(mw...)
	return e
}

// serve runs one request through e and returns the recorded response.
func serve(e *echo.Echo, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

// stateLog is a slog.Handler that reports breaker state changes, in order.
type stateLog struct {
	changes chan string
	levels  chan slog.Level
}

func newStateLog() *stateLog {
	return &stateLog{changes: make(chan string, 64), levels: make(chan slog.Level, 64)}
}

func (l *stateLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *stateLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *stateLog) WithGroup(string) slog.Handler            { return l }
func (l *stateLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "to" {
			l.changes <- a.Value.String()
			l.levels <- r.Level
		}
		return true
	})
	return nil
}

// next waits for the next state change.
func (l *stateLog) next(t *testing.T) (string, slog.Level) {
	t.Helper()
	select {
	case s := <-l.changes:
		return s, <-l.levels
	case <-t.Context().Done():
		t.Fatal("no state change")
		return "", 0
	}
}

func assertProblem(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get(echo.HeaderContentType); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want problem+json", ct)
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
}
