package versioning_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/problem"
	"github.com/troupehq/troupe/versioning"
)

func TestDeprecationHeaderFields(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	tests := []struct {
		name        string
		opts        []versioning.DeprecationOption
		deprecation string
		sunset      []string
		links       []string
	}{
		{
			name: "everything",
			opts: []versioning.DeprecationOption{
				versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2027, 6, 1)), versioning.Successor(2),
				versioning.Link("https://docs.example.com/v1-deprecation"), versioning.SunsetLink("https://docs.example.com/sunset"),
			},
			deprecation: "@1735689600",
			sunset:      []string{"Tue, 01 Jun 2027 00:00:00 GMT"},
			links: []string{
				`</api/v2>; rel="successor-version"`,
				`<https://docs.example.com/v1-deprecation>; rel="deprecation"`,
				`<https://docs.example.com/sunset>; rel="sunset"`,
			},
		},
		{
			name:        "since only",
			opts:        []versioning.DeprecationOption{versioning.Since(time.Unix(1688169599, 0))},
			deprecation: "@1688169599",
		},
		{
			name:        "times in another zone are sent in UTC",
			opts:        []versioning.DeprecationOption{versioning.Since(time.Date(2024, 12, 31, 19, 0, 0, 0, ny)), versioning.Sunset(time.Date(2027, 5, 31, 20, 0, 0, 0, ny))},
			deprecation: "@1735689600",
			sunset:      []string{"Tue, 01 Jun 2027 00:00:00 GMT"},
		},
		{
			name:        "relative documentation link",
			opts:        []versioning.DeprecationOption{versioning.Since(date(2025, 1, 1)), versioning.Link("/docs/v1")},
			deprecation: "@1735689600",
			links:       []string{`</docs/v1>; rel="deprecation"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := versioning.New("/api").
				Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
				Version(2, func(g *versioning.Group) { g.GET("/a", text("a")) }).
				Deprecate(1, tt.opts...)
			e := mount(t, api, versioning.MountOptions{EnforceSunset: true, Now: newClock(date(2026, 1, 1)).Now})
			h := do(e, http.MethodGet, "/api/v1/a").Header()
			if got := h.Values("Deprecation"); !slices.Equal(got, []string{tt.deprecation}) {
				t.Errorf("Deprecation = %q, want %q", got, tt.deprecation)
			}
			if got := h.Values("Sunset"); !slices.Equal(got, tt.sunset) {
				t.Errorf("Sunset = %q, want %q", got, tt.sunset)
			}
			if got := h.Values("Link"); !slices.Equal(got, tt.links) {
				t.Errorf("Link = %q, want %q", got, tt.links)
			}
			v2 := do(e, http.MethodGet, "/api/v2/a").Header()
			for _, field := range []string{"Deprecation", "Sunset", "Link"} {
				if v, ok := v2[field]; ok {
					t.Errorf("active v2 carries %s: %q", field, v)
				}
			}
		})
	}
}

func TestHeadersOnErrorResponses(t *testing.T) {
	failures := map[string]error{
		"echo HTTPError": echo.NewHTTPError(http.StatusBadRequest, "bad"),
		"problem.Error":  problem.NewError(http.StatusConflict, "conflict"),
		"plain error":    errors.New("boom"),
	}
	for name, fail := range failures {
		t.Run(name, func(t *testing.T) {
			api := versioning.New("/api").
				Version(1, func(g *versioning.Group) { g.GET("/a", func(echo.Context) error { return fail }) }).
				Version(2, func(*versioning.Group) {}).
				Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2099, 1, 1)), versioning.Successor(2))
			rec := do(mount(t, api, versioning.MountOptions{EnforceSunset: true}), http.MethodGet, "/api/v1/a")
			if rec.Code < 400 {
				t.Fatalf("status %d, want an error", rec.Code)
			}
			h := rec.Header()
			if h.Get("Deprecation") != "@1735689600" || h.Get("Sunset") != "Thu, 01 Jan 2099 00:00:00 GMT" || h.Get("Link") != `</api/v2>; rel="successor-version"` {
				t.Errorf("error response headers = %v", h)
			}
		})
	}
}

func TestLinkAddsToExistingValues(t *testing.T) {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Version(2, func(*versioning.Group) {}).
		Deprecate(1, versioning.Successor(2), versioning.Link("https://d"))
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Add("Link", `</style.css>; rel="preload"`)
			return next(c)
		}
	})
	if err := api.Mount(e, versioning.MountOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{`</style.css>; rel="preload"`, `</api/v2>; rel="successor-version"`, `<https://d>; rel="deprecation"`}
	if got := do(e, http.MethodGet, "/api/v1/a").Header().Values("Link"); !slices.Equal(got, want) {
		t.Errorf("Link = %q, want %q", got, want)
	}
}

func TestResponsesDoNotShareHeaderValues(t *testing.T) {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/a", func(c echo.Context) error {
				h := c.Response().Header()
				h["Deprecation"][0] = "tampered" // in-place edits must stay in this response
				h["Link"][0] = "tampered"
				h.Add("Sunset", "extra")
				return c.NoContent(http.StatusNoContent)
			})
			g.GET("/b", text("b"))
		}).
		Version(2, func(*versioning.Group) {}).
		Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2099, 1, 1)), versioning.Successor(2))
	e := mount(t, api, versioning.MountOptions{})
	do(e, http.MethodGet, "/api/v1/a")
	h := do(e, http.MethodGet, "/api/v1/b").Header()
	if h.Get("Deprecation") != "@1735689600" || h.Values("Link")[0] != `</api/v2>; rel="successor-version"` {
		t.Errorf("second response saw the first one's edits: %v", h)
	}
	if got := h.Values("Sunset"); !slices.Equal(got, []string{"Thu, 01 Jan 2099 00:00:00 GMT"}) {
		t.Errorf("Sunset = %q, want the rendered value alone", got)
	}
}
