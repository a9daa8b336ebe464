package resilience

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// newLimitedServer returns an Echo app with the two stages around a fake
// authentication stage: "Authorization: user <sub>" or "client <sub>"
// authenticates; the route /public ignores credentials, as a public route
// does.
func newLimitedServer(cfg RateLimitConfig) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var pe *problem.Error
		if errors.As(err, &pe) {
			pe.Render(c.Response(), c.Request())
			return
		}
		e.DefaultHTTPErrorHandler(err, c)
	}
	anonymous, byPrincipal := RateLimitWithConfig(cfg)
	withInfo := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			c.SetRequest(r.WithContext(reqinfo.NewContext(r.Context(), &reqinfo.Info{ID: "req"})))
			return next(c)
		}
	}
	authenticate := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			kind, sub, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
			if ok && c.Path() != "/public" {
				reqinfo.FromContext(c.Request().Context()).Principal = &principal.Principal{Subject: sub, Kind: principal.Kind(kind)}
			}
			return next(c)
		}
	}
	e.Use(withInfo, anonymous, authenticate, byPrincipal)
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	for _, p := range []string{"/a", "/b", "/slow", "/g", "/public"} {
		e.GET(p, ok)
	}
	e.OPTIONS("/a", ok)
	return e
}

type request struct {
	method, path, ip, auth string
	preflight              bool
}

func (r request) do(e http.Handler) *httptest.ResponseRecorder {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	req := httptest.NewRequest(method, r.path, nil)
	req.RemoteAddr = r.ip + ":1234"
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.preflight {
		req.Header.Set("Access-Control-Request-Method", "POST")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func statuses(e http.Handler, n int, r request) []int {
	var got []int
	for range n {
		got = append(got, r.do(e).Code)
	}
	return got
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var hourly = func(burst int) Limit { return Limit{Rate: 1, Period: time.Hour, Burst: burst} }

func TestRateLimit429AndHeaders(t *testing.T) {
	e := newLimitedServer(RateLimitConfig{Store: NewMemoryStore(roomyStore), Anonymous: hourly(2)})
	r := request{path: "/a", ip: "10.0.0.1"}
	first := r.do(e)
	if first.Code != 200 || first.Header().Get(HeaderRateLimitPolicy) != `"ip";q=2;w=7200` ||
		first.Header().Get(HeaderRateLimit) != `"ip";r=1;t=3600` {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	r.do(e)
	third := r.do(e)
	if third.Code != http.StatusTooManyRequests {
		t.Fatalf("third: %d, want 429", third.Code)
	}
	h := third.Header()
	if h.Get("Content-Type") != problem.ContentType || h.Get("Retry-After") != "3600" ||
		h.Get(HeaderRateLimit) != `"ip";r=0;t=7200` || h.Get(HeaderRateLimitPolicy) != `"ip";q=2;w=7200` {
		t.Fatalf("429 headers: %v", h)
	}
	if other := (request{path: "/a", ip: "10.0.0.2"}).do(e); other.Code != 200 {
		t.Fatalf("another IP: %d", other.Code)
	}
}

func TestRateLimitSkipsPreflight(t *testing.T) {
	e := newLimitedServer(RateLimitConfig{Store: NewMemoryStore(roomyStore), Anonymous: hourly(1)})
	pre := request{method: http.MethodOptions, path: "/a", ip: "10.0.0.1", preflight: true}
	for range 5 {
		if rec := pre.do(e); rec.Code != 200 || rec.Header().Get(HeaderRateLimit) != "" {
			t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
		}
	}
	if got := statuses(e, 2, request{path: "/a", ip: "10.0.0.1"}); !equalInts(got, []int{200, 429}) {
		t.Fatalf("after preflights: %v, want the whole budget left", got)
	}
}

func TestRateLimitPrincipals(t *testing.T) {
	e := newLimitedServer(RateLimitConfig{Store: NewMemoryStore(roomyStore),
		Anonymous: hourly(1), User: hourly(3), Client: hourly(2)})
	ip := "10.0.0.1"
	tests := []struct {
		name string
		r    request
		want []int
	}{
		{"user has the user budget, not the IP's", request{path: "/a", ip: ip, auth: "user alice"}, []int{200, 200, 200, 429}},
		{"another user on the same IP has their own", request{path: "/a", ip: ip, auth: "user bob"}, []int{200, 200, 200, 429}},
		{"a user keeps their budget from another IP", request{path: "/a", ip: "10.9.9.9", auth: "user alice"}, []int{429}},
		{"clients have the client budget", request{path: "/a", ip: ip, auth: "client ci"}, []int{200, 200, 429}},
		{"services count as clients", request{path: "/a", ip: ip, auth: "service billing"}, []int{200, 200, 429}},
		{"authenticated traffic left the IP budget whole", request{path: "/a", ip: ip}, []int{200, 429}},
		{"credentials on a public route are limited per IP", request{path: "/public", ip: "10.0.0.3", auth: "user eve"}, []int{200, 429}},
	}
	for _, tt := range tests {
		if got := statuses(e, len(tt.want), tt.r); !equalInts(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	rec := (request{path: "/a", ip: ip, auth: "user carol"}).do(e)
	if rec.Header().Get(HeaderRateLimitPolicy) != `"user";q=3;w=10800` {
		t.Errorf("user policy field: %q", rec.Header().Get(HeaderRateLimitPolicy))
	}
}

func TestRateLimitRouteOverrideAndGlobal(t *testing.T) {
	e := newLimitedServer(RateLimitConfig{Store: NewMemoryStore(roomyStore),
		Anonymous: hourly(3),
		Routes:    map[string]Limit{"GET /slow": hourly(1)},
		Global:    map[string]Limit{"GET /g": hourly(2)},
	})
	ip := "10.0.0.1"
	if got := statuses(e, 2, request{path: "/slow", ip: ip}); !equalInts(got, []int{200, 429}) {
		t.Errorf("override: %v", got)
	}
	if got := statuses(e, 3, request{path: "/a", ip: ip}); !equalInts(got, []int{200, 200, 200}) {
		t.Errorf("the override's budget is apart from the class budget: %v", got)
	}
	var got []int
	for _, ip := range []string{"10.1.0.1", "10.1.0.2", "10.1.0.3"} {
		got = append(got, request{path: "/g", ip: ip}.do(e).Code)
	}
	if !equalInts(got, []int{200, 200, 429}) {
		t.Errorf("global: %v", got)
	}
	rec := request{path: "/g", ip: "10.1.0.4"}.do(e)
	if p := rec.Header().Values(HeaderRateLimitPolicy); len(p) != 2 || p[0] != `"ip";q=3;w=10800` || p[1] != `"global";q=2;w=7200` {
		t.Errorf("policy fields on a globally limited route: %q", p)
	}
}

// failingStore fails every call, as a store whose backend is down.
type failingStore struct{}

func (failingStore) Allow(context.Context, string, Limit, int) (Result, error) {
	return Result{}, errors.New("connection refused")
}
func (failingStore) Name() string { return "redis" }

func TestRateLimitStoreErrorLetsThrough(t *testing.T) {
	e := newLimitedServer(RateLimitConfig{Store: failingStore{}, Anonymous: hourly(1)})
	if got := statuses(e, 3, request{path: "/a", ip: "10.0.0.1"}); !equalInts(got, []int{200, 200, 200}) {
		t.Fatalf("with a failing store: %v, want every request through", got)
	}
}

func TestRateLimitConfigValidate(t *testing.T) {
	bad := RateLimitConfig{Store: NewMemoryStore(1), User: Limit{Rate: 1},
		Routes: map[string]Limit{"/no-method": hourly(1)}}
	if got := fields(bad.Validate()); !slices.Equal(got, []string{"Routes", "User.Period"}) {
		t.Fatalf("Validate() names %v, want the user limit's period and the route", got)
	}
	if got := fields((RateLimitConfig{}).Validate()); !slices.Equal(got, []string{"Store"}) {
		t.Fatalf("no store: Validate() names %v, want Store", got)
	}
}

// roomyStore sizes the stage tests' memory stores so that no shard fills:
// a full shard may evict a live key, which would reset its budget.
const roomyStore = 100_000

// TestRateLimitHeaderFieldsCost pins the allocations of one decision's
// header fields: the two field values and their two slices. Header.Add
// also allocated the canonical form of each field name ("Ratelimit"), which
// net/http does not keep, on every call: 6 allocations before, 4 now. The
// fields keep the keys Header.Add gave them.
func TestRateLimitHeaderFieldsCost(t *testing.T) {
	roomy := Limit{Rate: 1_000_000_000, Period: time.Second, Burst: 50} // small numbers: strconv allocates none
	lim := newLimiter(RateLimitConfig{Store: NewMemoryStore(roomyStore), Anonymous: roomy})
	h := http.Header{}
	ctx := context.Background()
	check := func() {
		clear(h)
		if err := lim.check(ctx, h, "/a", roomy, "ip", "ip:10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	check()
	if got := slices.Sorted(maps.Keys(h)); !slices.Equal(got, []string{"Ratelimit", "Ratelimit-Policy"}) {
		t.Errorf("header keys %q, want Header.Add's canonical Ratelimit and Ratelimit-Policy", got)
	}
	if n := testing.AllocsPerRun(100, check); n > 4 {
		t.Errorf("one decision's header fields cost %v allocations, want at most 4", n)
	}
}
