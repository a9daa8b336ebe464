package versioning_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

func TestMountReportsBuilderErrors(t *testing.T) {
	ok := text("ok")
	one := func(g *versioning.Group) { g.GET("/x", ok) }
	tests := []struct {
		name  string
		build func() *versioning.API
		want  string
	}{
		{"base without leading slash", func() *versioning.API { return versioning.New("api").Version(1, one) }, `invalid base "api"`},
		{"base with parameter", func() *versioning.API { return versioning.New("/api/:tenant").Version(1, one) }, `character ':' not allowed`},
		{"base with wildcard", func() *versioning.API { return versioning.New("/api/*").Version(1, one) }, `character '*' not allowed`},
		{"base with empty segment", func() *versioning.API { return versioning.New("/a//b").Version(1, one) }, "empty path segment"},
		{"base with dot-dot", func() *versioning.API { return versioning.New("/a/..").Version(1, one) }, `".." segment`},
		{"base with query", func() *versioning.API { return versioning.New("/a?b").Version(1, one) }, `character '?' not allowed`},
		{"base with space", func() *versioning.API { return versioning.New("/a b").Version(1, one) }, `character ' ' not allowed`},
		{"no versions", func() *versioning.API { return versioning.New("/api") }, "no versions defined"},
		{"version zero", func() *versioning.API { return versioning.New("/api").Version(0, one) }, "version 0: version numbers start at 1"},
		{"negative version", func() *versioning.API { return versioning.New("/api").Version(-2, one) }, "version -2"},
		{"nil routes function", func() *versioning.API { return versioning.New("/api").Version(1, nil) }, "v1: nil routes function"},
		{"duplicate version", func() *versioning.API { return versioning.New("/api").Version(1, one).Version(1, one) }, "v1: defined twice"},
		{"deprecate unknown version", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(3)
		}, "v3: Deprecate of an unknown version"},
		{"deprecated twice", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1).Deprecate(1)
		}, "v1: deprecated twice"},
		{"successor unknown", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Successor(2))
		}, "v1: successor v2 is not a defined version"},
		{"successor itself", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Successor(1))
		}, "v1: is its own successor"},
		{"successor older", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Version(2, one).Deprecate(2, versioning.Successor(1))
		}, "v2: successor v1 is older"},
		{"successor zero", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Successor(0))
		}, "v1: Successor(0): version numbers start at 1"},
		{"sunset before since", func() *versioning.API {
			return versioning.New("/api").Version(1, one).
				Deprecate(1, versioning.Since(date(2026, 1, 1)), versioning.Sunset(date(2025, 1, 1)))
		}, "v1: sunset 2025-01-01T00:00:00Z is before the deprecation date 2026-01-01T00:00:00Z"},
		{"zero since", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Since(time.Time{}))
		}, "v1: Since: zero time"},
		{"zero sunset", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Sunset(time.Time{}))
		}, "v1: Sunset: zero time"},
		{"empty link", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Link(""))
		}, "v1: Link: empty URL"},
		{"link breaking out of brackets", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.SunsetLink("https://x/>; rel=evil"))
		}, "v1: SunsetLink: URL"},
		{"non-ASCII link", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Link("https://example.com/é"))
		}, `v1: Link: URL "https://example.com/é": character 'é' not allowed`},
		{"unparsable link", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, versioning.Link("http://[::1"))
		}, `v1: Link: URL "http://[::1"`},
		{"nil deprecation option", func() *versioning.API {
			return versioning.New("/api").Version(1, one).Deprecate(1, nil)
		}, "v1: nil deprecation option"},
		{"route path without slash", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("notes", ok) })
		}, `v1: GET notes: path must start with "/"`},
		{"empty route path", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("", ok) })
		}, `path must start with "/"`},
		{"route path with query", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/a?b=1", ok) })
		}, "path contains"},
		{"nil handler", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.POST("/notes", nil) })
		}, "v1: POST /notes: nil handler"},
		{"nil route middleware", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/x", ok, nil) })
		}, "v1: GET /x: nil middleware"},
		{"nil group middleware", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.Use(nil); g.GET("/x", ok) })
		}, "v1: Use: nil middleware"},
		{"invalid method", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.Add("GET /", "/x", ok) })
		}, "invalid method"},
		{"empty method", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) { g.Add("", "/x", ok) })
		}, "invalid method"},
		{"duplicate route", func() *versioning.API {
			return versioning.New("/api").Version(1, func(g *versioning.Group) {
				g.GET("/notes", ok)
				g.GET("/notes", ok)
			})
		}, "v1: GET /notes: registered twice in this version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			err := tt.build().Mount(e, versioning.MountOptions{})
			if err == nil {
				t.Fatalf("Mount succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Mount error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "versioning: ") {
				t.Errorf("error %q does not name the package", err)
			}
			if n := len(e.Routes()); n != 0 {
				t.Errorf("failed Mount registered %d routes", n)
			}
		})
	}
}

func TestMountReportsEveryErrorAtOnce(t *testing.T) {
	api := versioning.New("api").
		Version(1, func(g *versioning.Group) { g.GET("x", nil) }).
		Version(1, nil).
		Deprecate(7)
	err := api.Mount(nil, versioning.MountOptions{Middleware: []echo.MiddlewareFunc{nil}})
	if err == nil {
		t.Fatal("Mount succeeded")
	}
	for _, want := range []string{
		"invalid base", `path must start with "/"`, "nil handler", "v1: nil routes function",
		"v7: Deprecate of an unknown version", "nil *echo.Echo", "MountOptions.Middleware: nil middleware",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDuplicatePathsAcrossVersionsAndMethodsAreAllowed(t *testing.T) {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/n", text("g1")); g.POST("/n", text("p1")) }).
		Version(2, func(g *versioning.Group) { g.GET("/n", text("g2")) })
	e := mount(t, api, versioning.MountOptions{})
	for target, want := range map[string]string{"GET /api/v1/n": "g1", "POST /api/v1/n": "p1", "GET /api/v2/n": "g2"} {
		method, path, _ := strings.Cut(target, " ")
		if got := do(e, method, path).Body.String(); got != want {
			t.Errorf("%s = %q, want %q", target, got, want)
		}
	}
}

func TestInvalidRouteIsDescribedButNotRegistered(t *testing.T) {
	var r *versioning.Route
	versioning.New("/api").Version(4, func(g *versioning.Group) { r = g.PUT("/x", nil) })
	if r == nil || r.Method() != http.MethodPut || r.Path() != "/api/v4/x" || r.Version() != 4 {
		t.Fatalf("route = %+v, want PUT /api/v4/x in v4", r)
	}
}

func TestDeprecateBeforeVersionIsAccepted(t *testing.T) {
	api := versioning.New("/api").
		Deprecate(1, versioning.Successor(2)).
		Version(1, func(g *versioning.Group) { g.GET("/x", text("x")) }).
		Version(2, func(g *versioning.Group) { g.GET("/x", text("x")) })
	if err := api.Mount(echo.New(), versioning.MountOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultSinceIsDeprecateTime(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	api := versioning.New("/api").Version(1, func(*versioning.Group) {}).Deprecate(1)
	after := time.Now()
	got := api.Versions()[0].Deprecated
	if got == nil || got.Before(before) || got.After(after) {
		t.Fatalf("default deprecation date = %v, want within [%v, %v]", got, before, after)
	}
}

func TestDefaultSinceNeverFollowsPastSunset(t *testing.T) {
	// A service restarted after its sunset must still start: the defaulted
	// deprecation date falls back to the sunset instead of failing validation.
	sunset := date(2001, 1, 1)
	api := versioning.New("/api").Version(1, func(*versioning.Group) {}).Deprecate(1, versioning.Sunset(sunset))
	if err := api.Mount(echo.New(), versioning.MountOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := api.Versions()[0].Deprecated; got == nil || !got.Equal(sunset) {
		t.Fatalf("deprecation date = %v, want the sunset %v", got, sunset)
	}
}

func TestBase(t *testing.T) {
	for base, want := range map[string]string{"": "/", "/": "/", "/api": "/api", "/api/": "/api", "/svc/api-2": "/svc/api-2"} {
		if got := versioning.New(base).Base(); got != want {
			t.Errorf("New(%q).Base() = %q, want %q", base, got, want)
		}
	}
}
