package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// BenchmarkProtectedChain serves one small JSON route through the whole
// service handler — the default chain (request metrics included), then also
// JWT authentication (cached) and Cedar authorization (cached) — next to bare
// Echo with the same handler, for docs/benchmarks.md.
func BenchmarkProtectedChain(b *testing.B) {
	hello := func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"hello": "world"}) }
	bare := echo.New()
	bare.GET("/api/v1/hello", hello)
	api := func() *versioning.API {
		return versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/hello", hello) })
	}
	policy := `permit (principal, action == Action::"GET /api/v1/hello", resource);`
	cases := []struct {
		name    string
		handler func(b *testing.B) http.Handler
		token   bool
	}{
		{"bare-echo", func(*testing.B) http.Handler { return bare }, false},
		{"service-default", func(b *testing.B) http.Handler { return benchService(b, nil, api()) }, false},
		{"service-protected", func(b *testing.B) http.Handler {
			return benchService(b, authEnv(map[string]string{"AUTH__CEDAR__POLICIES": writePolicy(b, policy)}), api())
		}, true},
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString([]byte(testSecret))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.handler(b)
			req := httptest.NewRequest(http.MethodGet, "/api/v1/hello", nil)
			if bc.token {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// benchService builds the test service with env and returns its handler as
// Run's server serves it: Handler() adds the actor system to a request's
// context when it lacks it, which Run's server does once, for every request,
// through its base context.
func benchService(b *testing.B, env map[string]string, api *versioning.API) http.Handler {
	b.Helper()
	svc, err := New("test", WithConfigLoader(testLoader(b, env)), WithLogOutput(io.Discard), WithAPI(api))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.release)
	return svc.handler
}

// BenchmarkInspectActorRoute serves POST /api/v1/echo/:word, answered by an
// actor, through the whole service handler with the inspector in each
// mode, for docs/benchmarks.md#inspector.
func BenchmarkInspectActorRoute(b *testing.B) {
	for _, mode := range []string{"off", "production", "analysis", "development"} {
		b.Run(mode, func(b *testing.B) {
			benchActorRoute(b, map[string]string{"INSPECT__MODE": mode}, 20_000, func() (*http.Request, context.CancelFunc) {
				return httptest.NewRequest(http.MethodPost, "/api/v1/echo/hi", strings.NewReader("x")), func() {}
			})
		})
	}
}
