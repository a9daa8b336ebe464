package chain

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// TestFacts pins where stages learn a request's route and client IP: the
// Info the request-ID stage filled, or Echo's own answer without one.
func TestFacts(t *testing.T) {
	e := echo.New()
	var got [][3]string
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got = append(got, [3]string{Route(c), RuleRoute(c), ClientIP(c)})
			if info := reqinfo.FromContext(c.Request().Context()); info == nil {
				r := c.Request()
				c.SetRequest(r.WithContext(reqinfo.NewContext(r.Context(), &reqinfo.Info{Route: "/recorded", ClientIP: "203.0.113.9"})))
				got = append(got, [3]string{Route(c), RuleRoute(c), ClientIP(c)})
			}
			return next(c)
		}
	})
	e.GET("/notes/:id", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	for _, path := range []string{"/notes/1", "/nowhere"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "192.0.2.1:4321"
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	req := httptest.NewRequest(http.MethodPost, "/notes/1", nil) // 405
	req.RemoteAddr = "192.0.2.1:4321"
	e.ServeHTTP(httptest.NewRecorder(), req)
	want := [][3]string{
		{"/notes/:id", "/notes/:id", "192.0.2.1"}, {"/recorded", "/recorded", "203.0.113.9"},
		{"", "", "192.0.2.1"}, {"/recorded", "/recorded", "203.0.113.9"},
		{"", "/notes/:id", "192.0.2.1"}, {"/recorded", "/recorded", "203.0.113.9"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: Route, RuleRoute, ClientIP = %q, want %q", i, got[i], want[i])
		}
	}
}
