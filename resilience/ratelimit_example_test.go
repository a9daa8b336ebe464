package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/resilience"
)

func ExampleMemoryStore() {
	store := resilience.NewMemoryStore(10_000)
	limit := resilience.Limit{Rate: 1, Period: time.Minute, Burst: 2}
	for range 3 {
		res, _ := store.Allow(context.Background(), "ip:192.0.2.1", limit, 1)
		fmt.Println(res.Allowed, res.Remaining)
	}
	// Output:
	// true 1
	// true 0
	// false 0
}

func ExampleRateLimit() {
	// DefaultRateLimitConfig's limits: 60 a minute per IP, 600 per user,
	// 1200 per client.
	anonymous, principal := resilience.RateLimit(resilience.NewMemoryStore(0))
	e := echo.New()
	// In a service these fill the RateLimit slot and the slot right after
	// authentication.
	e.Use(anonymous, principal)
	e.GET("/orders", func(c echo.Context) error { return c.NoContent(http.StatusOK) })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/orders", nil))
	fmt.Println(rec.Code)
	fmt.Println(rec.Header().Get("RateLimit-Policy"))
	fmt.Println(rec.Header().Get("RateLimit"))
	// Output:
	// 200
	// "ip";q=60;w=60
	// "ip";r=59;t=1
}
