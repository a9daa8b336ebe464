package resilience_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/resilience"
)

// A route that keeps failing is cut off: once the breaker has seen enough
// failures, requests get a 503 with Retry-After without reaching the
// handler.
func ExampleCircuitBreakerWithConfig() {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(nil)
	e.Use(resilience.CircuitBreakerWithConfig(resilience.BreakerConfig{
		BreakerSettings: resilience.BreakerSettings{FailureRatio: 0.5, MinRequests: 2},
	}))
	e.GET("/inventory", func(echo.Context) error { return errors.New("inventory database unreachable") })

	for range 3 {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/inventory", nil))
		fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("Retry-After") != "")
	}
	// Output:
	// 500 application/problem+json false
	// 500 application/problem+json false
	// 503 application/problem+json true
}
