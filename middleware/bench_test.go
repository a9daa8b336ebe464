package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/middleware"
)

// benchWriter is a reusable ResponseWriter that keeps nothing but the status,
// so the benchmarks measure the server side only.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }
func (w *benchWriter) Flush()                      {}

func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
}

func benchServe(b *testing.B, e *echo.Echo) {
	e.GET("/orders/:id", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
	})
	r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("User-Agent", "bench")
	w := &benchWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		e.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkBareEcho is the baseline BenchmarkCoreChain is measured against.
func BenchmarkBareEcho(b *testing.B) {
	benchServe(b, echo.New())
}

// BenchmarkCoreChain serves the same route through every core stage of Chain.
func BenchmarkCoreChain(b *testing.B) {
	benchServe(b, coreChainEcho(b, nil))
}

// coreChainEcho returns Echo behind the core stages of Chain, with
// telemetry in its slot when it is not nil.
func coreChainEcho(b *testing.B, telemetry echo.MiddlewareFunc) *echo.Echo {
	b.Helper()
	logger := slog.New(logjson.New(io.Discard, nil))
	cors, err := middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"https://app.example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(logger)
	e.Use(middleware.Chain(middleware.Stages{
		Recover:         middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}),
		RequestID:       middleware.RequestID(),
		Telemetry:       telemetry,
		AccessLog:       middleware.AccessLog(logger),
		SecurityHeaders: middleware.SecurityHeaders(),
		CORS:            cors,
		BodyLimit:       middleware.BodyLimit(1 << 20),
		Timeout:         middleware.Timeout(30 * time.Second),
	}))
	return e
}
