package versioning_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// FuzzMount feeds arbitrary bases, route paths and documentation links
// through the builder: Mount must either refuse them with an error or
// register routes under the base that then serve requests — never panic.
func FuzzMount(f *testing.F) {
	for _, seed := range [][3]string{
		{"/api", "/notes/:id", "https://example.com/d"},
		{"", "/", "/docs"},
		{"/", "/files/*", ""},
		{"/a//b", "notes", "<bad>"},
		{"/a:b", "/x?y", "https://x/ y"},
		{"/api/", "/:a/:b/*", "mailto:ops@example.com"},
		{"/%41", "/\x00", "http://[::1"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, base, route, link string) {
		api := versioning.New(base).
			Version(1, func(g *versioning.Group) { g.GET(route, text("ok")) }).
			Version(2, func(*versioning.Group) {}).
			Deprecate(1, versioning.Successor(2), versioning.Link(link))
		e := echo.New()
		if err := api.Mount(e, versioning.MountOptions{EnforceSunset: true}); err != nil {
			if len(e.Routes()) != 0 {
				t.Fatalf("failed Mount registered routes: %v", err)
			}
			return
		}
		prefix := strings.TrimSuffix(api.Base(), "/") + "/v1"
		for _, r := range e.Routes() {
			if r.Method != http.MethodGet {
				t.Fatalf("unexpected method %q", r.Method)
			}
			if !strings.HasPrefix(r.Path, prefix) && r.Path != api.Base() && r.Path != api.Base()+"/" {
				t.Fatalf("route %q outside %q", r.Path, prefix)
			}
		}
		if !strings.ContainsAny(route, ":*") { // a literal route must answer at its path
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = prefix + route
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Header().Get("Link") == "" {
				t.Fatalf("GET %q = %d %v", req.URL.Path, rec.Code, rec.Header())
			}
		}
	})
}
