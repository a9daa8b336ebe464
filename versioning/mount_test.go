package versioning_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
	"github.com/troupehq/troupe/versioning"
)

func TestPathLayout(t *testing.T) {
	tests := []struct {
		base, route, request, wantPath string
	}{
		{"/api", "/notes", "/api/v1/notes", "/api/v1/notes"},
		{"/api/", "/notes", "/api/v1/notes", "/api/v1/notes"},
		{"", "/notes", "/v1/notes", "/v1/notes"},
		{"/", "/notes", "/v1/notes", "/v1/notes"},
		{"/svc/api", "/notes/:id", "/svc/api/v1/notes/42", "/svc/api/v1/notes/:id"},
		{"/api", "/files/*", "/api/v1/files/a/b", "/api/v1/files/*"},
		{"/api", "/", "/api/v1/", "/api/v1/"},
	}
	for _, tt := range tests {
		t.Run(tt.base+tt.route, func(t *testing.T) {
			var r *versioning.Route
			api := versioning.New(tt.base).Version(1, func(g *versioning.Group) {
				r = g.GET(tt.route, func(c echo.Context) error { return c.String(http.StatusOK, c.Path()) })
			})
			e := mount(t, api, versioning.MountOptions{})
			if r.Path() != tt.wantPath || r.Method() != http.MethodGet || r.Version() != 1 {
				t.Errorf("route = %s %s (v%d), want GET %s (v1)", r.Method(), r.Path(), r.Version(), tt.wantPath)
			}
			rec := do(e, http.MethodGet, tt.request)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.wantPath {
				t.Errorf("GET %s = %d %q, want 200 %q", tt.request, rec.Code, rec.Body, tt.wantPath)
			}
		})
	}
}

func TestManyVersions(t *testing.T) {
	const n = 25
	api := versioning.New("/api")
	for v := n; v >= 1; v-- { // declared out of order on purpose
		api.Version(v, func(g *versioning.Group) {
			if g.Version() != v {
				t.Errorf("group version = %d, want %d", g.Version(), v)
			}
			g.GET("/who", text(fmt.Sprint("v", v)))
		})
	}
	e := mount(t, api, versioning.MountOptions{})
	for v := 1; v <= n; v++ {
		want := fmt.Sprint("v", v)
		if got := do(e, http.MethodGet, "/api/"+want+"/who").Body.String(); got != want {
			t.Errorf("GET /api/%s/who = %q", want, got)
		}
	}
	infos := api.Versions()
	if len(infos) != n {
		t.Fatalf("Versions() has %d entries, want %d", len(infos), n)
	}
	for i, info := range infos {
		v := i + 1
		if info.Version != v || info.Label != fmt.Sprint("v", v) || info.Path != fmt.Sprint("/api/v", v) || info.Status != versioning.StatusActive {
			t.Errorf("Versions()[%d] = %+v", i, info)
		}
	}
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/notes", text("list")) }).
		Version(2, func(g *versioning.Group) {
			g.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return next })
			g.GET("/notes/:id", text("one"))
		}).
		Deprecate(1, versioning.Sunset(date(2099, 1, 1)))
	e := mount(t, api, versioning.MountOptions{EnforceSunset: true, Middleware: []echo.MiddlewareFunc{
		func(next echo.HandlerFunc) echo.HandlerFunc { return next },
	}})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/api/v1/notes", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/api/v2/notes/1", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api/v1/nope", http.StatusNotFound},
		{http.MethodGet, "/api/v3/notes", http.StatusNotFound},
		{http.MethodGet, "/api/v2/notes", http.StatusNotFound},
		{http.MethodGet, "/other", http.StatusNotFound},
		{http.MethodGet, "/api/v1/notes", http.StatusOK},
	}
	for _, tt := range tests {
		if rec := do(e, tt.method, tt.path); rec.Code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
	if allow := do(e, http.MethodPost, "/api/v1/notes").Header().Get("Allow"); !strings.Contains(allow, http.MethodGet) {
		t.Errorf("405 Allow = %q, want it to list GET", allow)
	}
}

func TestSunset(t *testing.T) {
	sunset := date(2027, 6, 1)
	clk := newClock(date(2027, 5, 31))
	newAPI := func(calls *int, successor bool) *versioning.API {
		opts := []versioning.DeprecationOption{versioning.Since(date(2025, 1, 1)), versioning.Sunset(sunset)}
		if successor {
			opts = append(opts, versioning.Successor(2))
		}
		return versioning.New("/api").
			Version(1, func(g *versioning.Group) {
				g.GET("/notes", func(c echo.Context) error { *calls++; return c.String(http.StatusOK, "v1") })
			}).
			Version(2, func(g *versioning.Group) { g.GET("/notes", text("v2")) }).
			Deprecate(1, opts...)
	}

	t.Run("enforced", func(t *testing.T) {
		var calls int
		e := mount(t, newAPI(&calls, true), versioning.MountOptions{EnforceSunset: true, Now: clk.Now})
		clk.Set(sunset.Add(-1))
		if rec := do(e, http.MethodGet, "/api/v1/notes"); rec.Code != http.StatusOK || calls != 1 {
			t.Fatalf("before sunset: %d, handler calls %d; want 200, 1", rec.Code, calls)
		}
		for name, at := range map[string]time.Time{"at": sunset, "after": sunset.AddDate(1, 0, 0)} {
			clk.Set(at)
			rec := do(e, http.MethodGet, "/api/v1/notes")
			if rec.Code != http.StatusGone {
				t.Fatalf("%s sunset: status %d, want 410", name, rec.Code)
			}
			if calls != 1 {
				t.Errorf("%s sunset: handler called", name)
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			var p problem.Details
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			want := problem.Details{
				Type: "about:blank", Title: "Gone", Status: http.StatusGone, Instance: "/api/v1/notes",
				Detail: "API v1 was retired on Tue, 01 Jun 2027 00:00:00 GMT; use /api/v2 instead.",
			}
			if p != want {
				t.Errorf("problem = %+v, want %+v", p, want)
			}
			for _, field := range []string{"Deprecation", "Sunset", "Link"} {
				if rec.Header().Get(field) == "" {
					t.Errorf("410 lacks %s", field)
				}
			}
		}
		if rec := do(e, http.MethodGet, "/api/v2/notes"); rec.Code != http.StatusOK {
			t.Errorf("successor answered %d", rec.Code)
		}
		rec := do(e, http.MethodHead, "/api/v1/notes")
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("HEAD on a GET-only route = %d, want 405", rec.Code)
		}
	})

	t.Run("without successor", func(t *testing.T) {
		var calls int
		e := mount(t, newAPI(&calls, false), versioning.MountOptions{EnforceSunset: true, Now: clk.Now})
		clk.Set(sunset)
		rec := do(e, http.MethodGet, "/api/v1/notes")
		var p problem.Details
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if want := "API v1 was retired on Tue, 01 Jun 2027 00:00:00 GMT."; rec.Code != http.StatusGone || p.Detail != want {
			t.Errorf("got %d %q, want 410 %q", rec.Code, p.Detail, want)
		}
	})

	t.Run("not enforced", func(t *testing.T) {
		var calls int
		e := mount(t, newAPI(&calls, true), versioning.MountOptions{EnforceSunset: false, Now: clk.Now})
		clk.Set(sunset.AddDate(1, 0, 0))
		rec := do(e, http.MethodGet, "/api/v1/notes")
		if rec.Code != http.StatusOK || rec.Body.String() != "v1" || calls != 1 {
			t.Errorf("got %d %q with %d calls, want the handler's 200", rec.Code, rec.Body, calls)
		}
		if got := rec.Header().Get("Sunset"); got != "Tue, 01 Jun 2027 00:00:00 GMT" {
			t.Errorf("Sunset = %q", got)
		}
	})
}

func TestListing(t *testing.T) {
	clk := newClock(date(2024, 6, 1))
	api := versioning.New("/api").
		Version(1, func(*versioning.Group) {}).
		Version(2, func(*versioning.Group) {}).
		Version(3, func(*versioning.Group) {}).
		Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2027, 6, 1)), versioning.Successor(3))
	e := mount(t, api, versioning.MountOptions{Now: clk.Now})
	tail := `{"version":2,"path":"/api/v2","status":"active"},{"version":3,"path":"/api/v3","status":"active"}]}` + "\n"
	v1 := `{"versions":[{"version":1,"path":"/api/v1","status":"%s","deprecated":"2025-01-01T00:00:00Z","sunset":"2027-06-01T00:00:00Z","successor":"/api/v3"},`
	for _, step := range []struct {
		now    string
		status string
	}{{"2024-06-01", "active"}, {"2025-01-01", "deprecated"}, {"2027-06-01", "sunset"}} {
		clk.Set(mustDate(t, step.now))
		for _, path := range []string{"/api", "/api/"} {
			rec := do(e, http.MethodGet, path)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", path, rec.Code)
			}
			if want := fmt.Sprintf(v1, step.status) + tail; rec.Body.String() != want {
				t.Errorf("at %s GET %s =\n%s\nwant\n%s", step.now, path, rec.Body, want)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
		}
	}
}

func TestListingAtRoot(t *testing.T) {
	e := mount(t, versioning.New("").Version(1, func(*versioning.Group) {}), versioning.MountOptions{})
	rec := do(e, http.MethodGet, "/")
	if want := `{"versions":[{"version":1,"path":"/v1","status":"active"}]}` + "\n"; rec.Body.String() != want {
		t.Errorf("GET / = %d %q, want %q", rec.Code, rec.Body, want)
	}
}

func TestListingIsASnapshotAtMount(t *testing.T) {
	api := versioning.New("/api").Version(1, func(*versioning.Group) {})
	e := mount(t, api, versioning.MountOptions{})
	api.Version(2, func(*versioning.Group) {})
	if body := do(e, http.MethodGet, "/api").Body.String(); strings.Contains(body, "v2") {
		t.Errorf("listing shows a version added after Mount: %s", body)
	}
}

func TestOnRequestCountsPerVersion(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	clk := newClock(date(2030, 1, 1))
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Version(2, func(g *versioning.Group) { g.GET("/a", text("a")); g.POST("/b", text("b")) }).
		Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Sunset(date(2026, 1, 1)))
	e := mount(t, api, versioning.MountOptions{EnforceSunset: true, Now: clk.Now, OnRequest: func(v string) {
		mu.Lock()
		defer mu.Unlock()
		counts[v]++
	}})
	for _, r := range []string{"GET /api/v1/a", "GET /api/v2/a", "POST /api/v2/b", "GET /api/v2/a", "GET /api", "GET /api/v9/a", "DELETE /api/v2/a"} {
		method, path, _ := strings.Cut(r, " ")
		do(e, method, path)
	}
	want := map[string]int{"v1": 1, "v2": 3} // the sunset v1 request counts; listing, 404 and 405 do not
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}
}

func TestRequestInfoCarriesVersion(t *testing.T) {
	clk := newClock(date(2030, 1, 1))
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Version(2, func(g *versioning.Group) {
			g.GET("/a", func(c echo.Context) error {
				return c.String(http.StatusOK, reqinfo.FromContext(c.Request().Context()).APIVersion)
			})
		}).
		Deprecate(1, versioning.Sunset(date(2026, 1, 1)))
	e := echo.New()
	var seen []string
	// The request-ID middleware's role: install an Info, read it afterwards.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			info := &reqinfo.Info{ID: "req-1"}
			c.SetRequest(c.Request().WithContext(reqinfo.NewContext(c.Request().Context(), info)))
			err := next(c)
			seen = append(seen, info.APIVersion)
			return err
		}
	})
	if err := api.Mount(e, versioning.MountOptions{EnforceSunset: true, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	if got := do(e, http.MethodGet, "/api/v2/a").Body.String(); got != "v2" {
		t.Errorf("handler saw APIVersion %q, want v2", got)
	}
	rec := do(e, http.MethodGet, "/api/v1/a")
	if rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), `"request_id":"req-1"`) {
		t.Errorf("410 = %d %s, want the request ID in the problem", rec.Code, rec.Body)
	}
	do(e, http.MethodGet, "/api")
	if want := []string{"v2", "v1", ""}; !slices.Equal(seen, want) {
		t.Errorf("APIVersion seen outside = %q, want %q", seen, want)
	}
}

func TestRequestWithoutInfoIsServed(t *testing.T) {
	e := mount(t, versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }), versioning.MountOptions{})
	if rec := do(e, http.MethodGet, "/api/v1/a"); rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
}

func TestMiddlewareOrder(t *testing.T) {
	var order []string
	mw := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				order = append(order, name)
				return next(c)
			}
		}
	}
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.Use(mw("group1"))
		g.GET("/a", func(c echo.Context) error { order = append(order, "handler"); return nil }, mw("route1"), mw("route2"))
		g.Use(mw("group2")) // after the route: still applies
	})
	e := mount(t, api, versioning.MountOptions{Middleware: []echo.MiddlewareFunc{mw("mount1"), mw("mount2")}})
	do(e, http.MethodGet, "/api/v1/a")
	want := []string{"mount1", "mount2", "group1", "group2", "route1", "route2", "handler"}
	if !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
}

func TestMountMiddlewareRunsInsideSunsetCheck(t *testing.T) {
	// Authentication plugs into MountOptions.Middleware; a retired version
	// must say 410 without asking for credentials.
	clk := newClock(date(2030, 1, 1))
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Deprecate(1, versioning.Sunset(date(2026, 1, 1)))
	deny := func(echo.HandlerFunc) echo.HandlerFunc {
		return func(echo.Context) error { return echo.ErrUnauthorized }
	}
	e := mount(t, api, versioning.MountOptions{EnforceSunset: true, Now: clk.Now, Middleware: []echo.MiddlewareFunc{deny}})
	if rec := do(e, http.MethodGet, "/api/v1/a"); rec.Code != http.StatusGone {
		t.Errorf("status %d, want 410", rec.Code)
	}
}

func namedHandler(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

func TestEchoReverseFindsApplicationHandler(t *testing.T) {
	e := mount(t, versioning.New("/api").Version(2, func(g *versioning.Group) { g.GET("/notes/:id", namedHandler) }), versioning.MountOptions{})
	if got := e.URI(namedHandler, 7); got != "/api/v2/notes/7" {
		t.Errorf("e.URI = %q, want /api/v2/notes/7", got)
	}
}

func TestMountTwiceServesBothEchos(t *testing.T) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) })
	for i := range 2 {
		if rec := do(mount(t, api, versioning.MountOptions{}), http.MethodGet, "/api/v1/a"); rec.Code != http.StatusOK {
			t.Errorf("mount %d: status %d", i, rec.Code)
		}
	}
}

func TestServesOverRealServer(t *testing.T) {
	e := mount(t, versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Version(2, func(g *versioning.Group) { g.GET("/a", text("a")) }).
		Deprecate(1, versioning.Since(date(2025, 1, 1)), versioning.Successor(2)), versioning.MountOptions{})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v1/a")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Values("Link"); !slices.Equal(got, []string{`</api/v2>; rel="successor-version"`}) {
		t.Errorf("Link = %q", got)
	}
	if got := resp.Header.Get("Deprecation"); got != "@1735689600" {
		t.Errorf("Deprecation = %q", got)
	}
}
