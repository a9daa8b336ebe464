package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

// recordStage returns a stage that appends its name to trace on the way in.
func recordStage(name string, trace *[]string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			*trace = append(*trace, name)
			return next(c)
		}
	}
}

// TestChainOrderIsDesignOrder pins the request path of DESIGN §4.
func TestChainOrderIsDesignOrder(t *testing.T) {
	var trace []string
	s := middleware.Stages{}
	v := reflect.ValueOf(&s).Elem()
	var want []string
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		want = append(want, name)
		v.Field(i).Set(reflect.ValueOf(recordStage(name, &trace)))
	}
	e := echo.New()
	e.Use(middleware.Chain(s))
	e.GET("/x", func(c echo.Context) error {
		trace = append(trace, "handler")
		return c.NoContent(http.StatusNoContent)
	})
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))

	designOrder := "Recover RequestID Telemetry AccessLog SecurityHeaders CORS BodyLimit Timeout Compress LoadShedding RateLimit Authenticate PrincipalRateLimit Authorize CircuitBreaker handler"
	if got := strings.Join(trace, " "); got != designOrder {
		t.Fatalf("request path:\n got %s\nwant %s", got, designOrder)
	}
	if got := strings.Join(append(want, "handler"), " "); got != designOrder {
		t.Fatalf("Stages declares %s; keep its fields in request-path order", got)
	}
}

func TestChainSkipsNilStagesAndServesEveryRoute(t *testing.T) {
	var trace []string
	e := echo.New()
	e.Use(middleware.Chain(middleware.Stages{
		RequestID: recordStage("id", &trace),
		CORS:      recordStage("cors", &trace),
	}))
	e.GET("/a", func(c echo.Context) error { return c.String(http.StatusOK, "a") })
	e.GET("/b", func(c echo.Context) error { return c.String(http.StatusOK, "b") })

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/a", 200, "a"},
		{http.MethodGet, "/b", 200, "b"},
		{http.MethodGet, "/missing", 404, ""},
		{http.MethodPost, "/a", 405, ""},
	} {
		trace = nil
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || (tc.body != "" && w.Body.String() != tc.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, w.Code, w.Body, tc.status, tc.body)
		}
		if got := strings.Join(trace, " "); got != "id cors" {
			t.Errorf("%s %s ran stages %q, want the chain for every request", tc.method, tc.path, got)
		}
	}
}
