package authz

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// TestAdapterRouteAndClientIP checks where the stages learn a request's
// route template and client IP: from the reqinfo.Info when the chain has
// recorded them, else from Echo (internal/chain.RuleRoute and ClientIP).
func TestAdapterRouteAndClientIP(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	tok := validRS256(t, nil)
	// Only a request from 203.0.113.9 is allowed.
	authorizer := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t,
		`permit (principal, action, resource) when { context.ip == ip("203.0.113.9") };`)})
	for _, tc := range []struct {
		name       string
		route      string // what the chain recorded
		clientIP   string // what the chain recorded
		wantRoute  string // the route the rules were asked about
		wantStatus int
	}{
		{"from Echo", "", "", "/notes/:id", http.StatusForbidden},
		{"from the Info", "/preset", "203.0.113.9", "/preset", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			rule := func(_, route string) RouteRule {
				asked = append(asked, route)
				return RouteRule{}
			}
			info := &reqinfo.Info{Route: tc.route, ClientIP: tc.clientIP}
			e := echo.New()
			e.HTTPErrorHandler = func(_ error, c echo.Context) { c.Response().WriteHeader(http.StatusForbidden) }
			e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					r := c.Request()
					c.SetRequest(r.WithContext(reqinfo.NewContext(r.Context(), info)))
					return next(c)
				}
			})
			e.Use(Authenticate(AuthenticateConfig{Verifier: v, Rule: rule}))
			e.Use(Authorize(AuthorizeConfig{Authorizer: authorizer, Rule: rule, Logger: slog.New(slog.DiscardHandler)}))
			e.GET("/notes/:id", func(c echo.Context) error { return c.NoContent(http.StatusOK) })

			req := httptest.NewRequest(http.MethodGet, "/notes/1", nil)
			req.RemoteAddr = "192.0.2.1:4321"
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d (the policy allows only the Info's IP)", rec.Code, tc.wantStatus)
			}
			if len(asked) != 2 || asked[0] != tc.wantRoute || asked[1] != tc.wantRoute {
				t.Errorf("rules asked about %q, want %q twice", asked, tc.wantRoute)
			}
		})
	}
}
