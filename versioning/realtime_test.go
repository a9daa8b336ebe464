package versioning_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// TestRealtimeRoutes: WS and SSE register GET routes served by an
// http.Handler, behind the mount's middleware, with path parameters as
// path values and the action "connect".
func TestRealtimeRoutes(t *testing.T) {
	var ws, sse, renamed *versioning.Route
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, r.PathValue("room"))
	})
	api := versioning.New("/api").Version(2, func(g *versioning.Group) {
		ws = g.WS("/rooms/:room", h)
		sse = g.SSE("/feed/:room", h)
		renamed = g.WS("/other/:room", h).Action("watch")
	})
	var seen []string
	e := echo.New()
	err := api.Mount(e, versioning.MountOptions{Middleware: []echo.MiddlewareFunc{
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				seen = append(seen, c.Path())
				return next(c)
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r               *versioning.Route
		transport, path string
	}{{ws, "websocket", "/api/v2/rooms/lobby"}, {sse, "sse", "/api/v2/feed/lobby"}} {
		if c.r.Method() != http.MethodGet || c.r.Transport() != c.transport || c.r.ActionName() != "connect" {
			t.Errorf("%s: %s %s action %q", c.path, c.r.Method(), c.r.Transport(), c.r.ActionName())
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != http.StatusAccepted || rec.Body.String() != "lobby" {
			t.Errorf("%s: %d %q", c.path, rec.Code, rec.Body)
		}
	}
	if renamed.ActionName() != "watch" {
		t.Errorf("Action after WS: %q", renamed.ActionName())
	}
	if len(seen) != 2 || !strings.HasSuffix(seen[0], "/rooms/:room") {
		t.Errorf("middleware saw %v", seen)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v2/rooms/lobby", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a WS route: %d", rec.Code)
	}
	plain := versioning.New("/api").Version(1, func(g *versioning.Group) {
		ws = g.GET("/x", func(echo.Context) error { return nil })
	})
	_ = plain
	if ws.Transport() != "" {
		t.Errorf("GET route transport %q", ws.Transport())
	}
}

func TestRealtimeRouteNilHandler(t *testing.T) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.WS("/x", nil) })
	err := api.Mount(echo.New(), versioning.MountOptions{})
	if err == nil || !strings.Contains(err.Error(), "v1: GET /x: nil handler") {
		t.Fatalf("Mount = %v", err)
	}
}
