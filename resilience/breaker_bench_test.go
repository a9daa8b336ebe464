package resilience

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

// benchStage measures one request through Echo with mw (none for the
// baseline) around a handler that writes a 204, so the difference between
// the sub-benchmarks is the stage's own cost. The stage goes through
// middleware.Chain, as in a service: Echo's e.Use would rebuild its closure,
// and allocate, on every request.
func benchStage(b *testing.B, mw echo.MiddlewareFunc) {
	for _, stage := range []struct {
		name string
		mw   echo.MiddlewareFunc
	}{{"bare", nil}, {"stage", mw}} {
		b.Run(stage.name, func(b *testing.B) {
			e := echo.New()
			if stage.mw != nil {
				e.Use(middleware.Chain(middleware.Stages{CircuitBreaker: stage.mw}))
			}
			e.GET("/orders/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
				w := httptest.NewRecorder()
				for pb.Next() {
					e.ServeHTTP(w, r)
				}
			})
		})
	}
}

func BenchmarkCircuitBreaker(b *testing.B) {
	benchStage(b, CircuitBreakerWithConfig(BreakerConfig{Logger: discardLogger}))
}

func BenchmarkBulkhead(b *testing.B) {
	benchStage(b, BulkheadWithConfig(BulkheadConfig{MaxConcurrent: 1 << 20}))
}

func BenchmarkLoadShedding(b *testing.B) {
	benchStage(b, LoadSheddingWithConfig(SheddingConfig{InitialLimit: 1 << 20, MaxLimit: 1 << 20}))
}
