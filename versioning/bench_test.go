package versioning_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// discardWriter is a ResponseWriter that keeps nothing but a header map, so
// the benchmarks measure routing and versioning rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// BenchmarkRoute compares a plain Echo route with a route of a deprecated
// version (all three kinds of field, sunset enforced): the difference is the
// per-request cost of versioning.
func BenchmarkRoute(b *testing.B) {
	e := echo.New()
	e.GET("/plain/notes/:id", noContent)
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/notes/:id", noContent) }).
		Version(2, func(g *versioning.Group) { g.GET("/notes/:id", noContent) }).
		Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2099, 1, 1)),
			versioning.Successor(2), versioning.Link("https://example.com/deprecation"))
	if err := api.Mount(e, versioning.MountOptions{EnforceSunset: true, OnRequest: func(string) {}}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"plain", "/plain/notes/1"},
		{"active", "/api/v2/notes/1"},
		{"deprecated", "/api/v1/notes/1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				e.ServeHTTP(w, req)
			}
		})
	}
}
