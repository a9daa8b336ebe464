package service

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/redistest"
	"github.com/troupehq/troupe/resilience"
	"github.com/troupehq/troupe/versioning"
)

// gateRoute is a handler that blocks until its gate opens, so tests can
// hold requests in flight.
type gateRoute struct {
	entered chan struct{}
	release chan struct{}
}

func newGateRoute() *gateRoute {
	return &gateRoute{entered: make(chan struct{}, 64), release: make(chan struct{})}
}

func (g *gateRoute) handler(c echo.Context) error {
	g.entered <- struct{}{}
	<-g.release
	return c.NoContent(http.StatusNoContent)
}

// resilienceAPI: /hello answers, /limited is for route limits, /flaky fails
// while failing is set, /slow and /slowgroup block on their gates.
func resilienceAPI(failing *atomic.Bool, slow, slowGroup *gateRoute) *versioning.API {
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/hello", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		g.GET("/limited", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		g.GET("/flaky", func(c echo.Context) error {
			if failing.Load() {
				return errors.New("dependency down")
			}
			return c.NoContent(http.StatusNoContent)
		})
		g.GET("/slow", slow.handler)
		g.GET("/slowgroup", slowGroup.handler).Group("slow")
	})
}

func startResilience(t *testing.T, env map[string]string) (*running, *atomic.Bool, *gateRoute, *gateRoute) {
	t.Helper()
	failing := &atomic.Bool{}
	slow, slowGroup := newGateRoute(), newGateRoute()
	r := start(t, env, WithAPI(resilienceAPI(failing, slow, slowGroup)))
	t.Cleanup(func() {
		for _, g := range []*gateRoute{slow, slowGroup} {
			select {
			case <-g.release:
			default:
				close(g.release)
			}
		}
	})
	return r, failing, slow, slowGroup
}

// statuses sends n GETs to path and returns their status codes (0 for a
// failed exchange).
func statuses(t *testing.T, r *running, path string, n int, header http.Header) []int {
	t.Helper()
	var out []int
	for range n {
		req, _ := http.NewRequest(http.MethodGet, r.base()+path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil { // Error, not Fatal: callers run it on goroutines too
			t.Error(err)
			out = append(out, 0)
			continue
		}
		resp.Body.Close()
		out = append(out, resp.StatusCode)
	}
	return out
}

func count(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

func TestRateLimitPerIP(t *testing.T) {
	r, _, _, _ := startResilience(t, map[string]string{"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_IP_RPM": "2"})
	req, _ := http.NewRequest(http.MethodGet, r.base()+"/api/v1/hello", nil)
	var last *http.Response
	for range 3 {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" ||
		!strings.Contains(last.Header.Get("RateLimit-Policy"), "q=2") || last.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("third request: %d %v, want 429 problem with Retry-After and RateLimit-Policy q=2", last.StatusCode, last.Header)
	}
	// A CORS preflight is not counted, and rate limiting off admits all.
	off, _, _, _ := startResilience(t, map[string]string{"RATE_LIMIT__PER_IP_RPM": "2"})
	if got := count(statuses(t, off, "/api/v1/hello", 5, nil), 204); got != 5 {
		t.Errorf("rate_limit.enabled=false: %d of 5 admitted", got)
	}
}

func TestRateLimitPrincipals(t *testing.T) {
	env := authEnv(map[string]string{"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_USER_RPM": "2", "RATE_LIMIT__PER_CLIENT_RPM": "1"})
	r, _, _, _ := startResilience(t, env)
	user := http.Header{"Authorization": {"Bearer " + hs(t, jwt.SigningMethodHS256, claims(nil))}}
	client := http.Header{"Authorization": {"Bearer " + hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) {
		c["sub"], c["client_id"] = "billing", "billing"
	}))}}
	if got := statuses(t, r, "/api/v1/hello", 3, user); count(got, 204) != 2 || got[2] != 429 {
		t.Errorf("user at 2/min: %v", got)
	}
	if got := statuses(t, r, "/api/v1/hello", 2, client); count(got, 204) != 1 || got[1] != 429 {
		t.Errorf("client at 1/min: %v", got)
	}
}

func TestRateLimitRoutesAndGlobal(t *testing.T) {
	r, _, _, _ := startResilience(t, map[string]string{
		"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_IP_RPM": "100", "RATE_LIMIT__ROUTES": "GET /api/v1/limited=1",
	})
	if got := statuses(t, r, "/api/v1/limited", 2, nil); got[1] != 429 {
		t.Errorf("route override 1/min: %v", got)
	}
	if got := count(statuses(t, r, "/api/v1/hello", 3, nil), 204); got != 3 {
		t.Errorf("another route kept the per-IP limit: %d of 3", got)
	}

	g, _, _, _ := startResilience(t, authEnv(map[string]string{
		"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_USER_RPM": "100", "RATE_LIMIT__GLOBAL": "GET /api/v1/limited=2",
	}))
	var got []int
	for _, sub := range []string{"ada", "bob", "cy"} {
		token := hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["sub"] = sub }))
		got = append(got, statuses(t, g, "/api/v1/limited", 1, http.Header{"Authorization": {"Bearer " + token}})...)
	}
	if count(got, 204) != 2 || got[2] != 429 {
		t.Errorf("global 2/min across three users: %v", got)
	}
}

func TestRateLimitMaxKeys(t *testing.T) {
	for maxKeys, want := range map[string]int{"1": 204, "100000": 429} {
		r, _, _, _ := startResilience(t, map[string]string{
			"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_IP_RPM": "1", "RATE_LIMIT__MAX_KEYS": maxKeys,
			"HTTP__TRUSTED_PROXIES": "127.0.0.1",
		})
		first := http.Header{"X-Forwarded-For": {"198.51.100.1"}}
		statuses(t, r, "/api/v1/hello", 1, first)
		for i := range 2000 { // other callers crowd the first out of a small store
			statuses(t, r, "/api/v1/hello", 1, http.Header{"X-Forwarded-For": {"10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)}})
		}
		if got := statuses(t, r, "/api/v1/hello", 1, first)[0]; got != want {
			t.Errorf("max_keys %s: the first caller's second request got %d, want %d", maxKeys, got, want)
		}
	}
}

// TestRateLimitRedis shares a limit between two instances through a real
// redis-server, then kills it: the failure policy decides, never a 5xx.
func TestRateLimitRedis(t *testing.T) {
	for _, store := range []string{"redis", "auto", "memory"} {
		srv := redistest.Start(t)
		env := map[string]string{"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__STORE": store, "REDIS__URL": srv.URL(), "RATE_LIMIT__PER_IP_RPM": "4", "REDIS__TIMEOUT": relaxedRedisTimeout}
		one, _, _, _ := startResilience(t, env)
		two, _, _, _ := startResilience(t, env)
		got := append(statuses(t, one, "/api/v1/hello", 3, nil), statuses(t, two, "/api/v1/hello", 3, nil)...)
		want := 4 // one limit shared through Redis
		if store == "memory" {
			want = 6 // each instance its own
		}
		if count(got, 204) != want {
			t.Errorf("store %s, two instances at 4/min: %v, want %d admitted in all", store, got, want)
		}
	}

	for _, tc := range []struct {
		policy, instances string
		admitted          int
	}{
		{"fallback", "2", 2}, // each instance alone: 4/2
		{"fallback", "1", 4},
		{"allow", "1", 6},
		{"deny", "1", 0},
	} {
		srv := redistest.Start(t)
		r, _, _, _ := startResilience(t, map[string]string{
			"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__STORE": "redis", "REDIS__URL": srv.URL(), "RATE_LIMIT__PER_IP_RPM": "4",
			"RATE_LIMIT__REDIS_FAILURE": tc.policy, "RATE_LIMIT__EXPECTED_INSTANCES": tc.instances, "REDIS__TIMEOUT": relaxedRedisTimeout,
		})
		srv.Kill()
		got := statuses(t, r, "/api/v1/hello", 6, nil)
		if count(got, 204) != tc.admitted || count(got, 204)+count(got, 429) != 6 {
			t.Errorf("redis down, %s over %s instances: %v, want %d admitted and no 5xx", tc.policy, tc.instances, got, tc.admitted)
		}
		if _, body := get(t, r.adminBase()+"/readyz"); !strings.Contains(string(body), `"ratelimit:redis"`) || !strings.Contains(string(body), "warn") {
			t.Errorf("%s: readiness does not warn about Redis: %s", tc.policy, body)
		}
	}
}

// TestRateLimitLease counts Redis calls with and without leasing.
func TestRateLimitLease(t *testing.T) {
	for lease, maxCalls := range map[string]int64{"0": 20, "50": 2} {
		srv := redistest.Start(t)
		r, _, _, _ := startResilience(t, map[string]string{
			"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__STORE": "redis", "REDIS__URL": srv.URL(), "REDIS__TIMEOUT": relaxedRedisTimeout,
			"RATE_LIMIT__PER_IP_RPM": "1000", "RATE_LIMIT__LEASE_SIZE": lease,
		})
		statuses(t, r, "/api/v1/hello", 20, nil)
		info, err := srv.Client(t).Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		calls := evalCalls(info)
		// One more than the requests without leasing: the script is sent
		// once with EVAL after EVALSHA finds it missing.
		if (lease == "0" && calls < maxCalls) || (lease != "0" && calls > maxCalls+1) {
			t.Errorf("lease_size %s: %d Redis script calls for 20 requests", lease, calls)
		}
	}
}

// evalCalls sums the calls of EVAL and EVALSHA in INFO commandstats.
func evalCalls(info string) int64 {
	var n int64
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "cmdstat_eval") {
			_, rest, _ := strings.Cut(line, "calls=")
			v, _, _ := strings.Cut(rest, ",")
			c, _ := strconv.ParseInt(v, 10, 64)
			n += c
		}
	}
	return n
}

// breakerProbe makes one call through a breaker and says what happened:
// "ok", "fail" or "open" (refused without calling through).
type breakerProbe func() string

// inboundBreaker starts a service whose /flaky route sits behind the
// inbound breaker configured by env.
func inboundBreaker(t *testing.T, env map[string]string) (breakerProbe, *atomic.Bool, *gateRoute, breakerProbe) {
	env["RESILIENCE__BREAKER__ENABLED"] = "true"
	r, failing, slow, _ := startResilience(t, env)
	return inboundProbe(t, r, "/api/v1/flaky"), failing, slow, inboundProbe(t, r, "/api/v1/slow")
}

// inboundProbe calls path and classifies the status.
func inboundProbe(t *testing.T, r *running, path string) breakerProbe {
	return func() string {
		switch statuses(t, r, path, 1, nil)[0] {
		case 204:
			return "ok"
		case 500:
			return "fail"
		case 503:
			return "open"
		}
		return "?"
	}
}

// outboundBreaker starts a service whose svc.Client calls a downstream
// that fails while failing is set, behind the per-host breaker of env.
func outboundBreaker(t *testing.T, env map[string]string) (breakerProbe, *atomic.Bool, *gateRoute, breakerProbe) {
	failing := &atomic.Bool{}
	gate := newGateRoute()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			gate.entered <- struct{}{}
			<-gate.release
		}
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
		down.Close()
	})
	env["RESILIENCE__CLIENT__MAX_RETRIES"] = "0"
	r, _, _, _ := startResilience(t, env)
	call := func(path string) breakerProbe { return func() string { return outboundCall(r, down.URL+path) } }
	return call("/flaky"), failing, gate, call("/slow")
}

// outboundCall calls url with svc.Client and classifies the outcome.
// It may run on a goroutine of its own, so it reports errors rather than
// failing t.
func outboundCall(r *running, url string) string {
	resp, err := r.svc.Client().Get(url)
	switch {
	case errors.Is(err, resilience.ErrCircuitOpen):
		return "open"
	case err != nil:
		return "error: " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode == 500 {
		return "fail"
	}
	return "ok"
}

// TestBreakers runs one script against the inbound breaker
// ([resilience.breaker]) and the outbound one ([resilience.client.breaker]).
func TestBreakers(t *testing.T) {
	for _, side := range []struct {
		name   string
		prefix string
		start  func(*testing.T, map[string]string) (breakerProbe, *atomic.Bool, *gateRoute, breakerProbe)
	}{
		{"inbound", "RESILIENCE__BREAKER__", inboundBreaker},
		{"outbound", "RESILIENCE__CLIENT__BREAKER__", outboundBreaker},
	} {
		env := func(kv ...string) map[string]string {
			m := map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				m[side.prefix+kv[i]] = kv[i+1]
			}
			return m
		}
		t.Run(side.name+"/trips, probes, closes", func(t *testing.T) {
			probe, failing, _, _ := side.start(t, env("MIN_REQUESTS", "4", "FAILURE_RATIO", "0.5", "OPEN_TIMEOUT", "50ms", "HALF_OPEN_REQUESTS", "1"))
			failing.Store(true)
			for range 4 {
				probe()
			}
			if got := probe(); got != "open" {
				t.Fatalf("after 4 failures of 4: %s, want open", got)
			}
			failing.Store(false)
			waitFor(t, func() bool { return probe() == "ok" }) // half-open after open_timeout, a probe succeeds
			if got := probe(); got != "ok" {
				t.Errorf("after a successful probe: %s, want closed", got)
			}
		})
		t.Run(side.name+"/min_requests and failure_ratio", func(t *testing.T) {
			probe, failing, _, _ := side.start(t, env("MIN_REQUESTS", "10", "OPEN_TIMEOUT", "1h"))
			failing.Store(true)
			for range 4 {
				probe()
			}
			if got := probe(); got == "open" {
				t.Error("min_requests 10: open after 5 requests")
			}
			probe, failing, _, _ = side.start(t, env("MIN_REQUESTS", "4", "FAILURE_RATIO", "1", "OPEN_TIMEOUT", "1h"))
			probe()
			failing.Store(true)
			for range 3 {
				probe()
			}
			if got := probe(); got == "open" {
				t.Error("failure_ratio 1: open with one success among the failures")
			}
		})
		t.Run(side.name+"/interval", func(t *testing.T) {
			probe, failing, _, _ := side.start(t, env("MIN_REQUESTS", "4", "INTERVAL", "20ms", "OPEN_TIMEOUT", "1h"))
			failing.Store(true)
			probe()
			probe()
			time.Sleep(100 * time.Millisecond) // the window has moved past both
			probe()
			probe()
			if got := probe(); got == "open" {
				t.Error("interval 20ms: failures from an old window still counted")
			}
		})
		t.Run(side.name+"/half_open_requests", func(t *testing.T) {
			for n, wantHeld := range map[string]int{"1": 1, "2": 2} {
				probe, failing, gate, slow := side.start(t, env("MIN_REQUESTS", "2", "OPEN_TIMEOUT", "50ms", "HALF_OPEN_REQUESTS", n))
				failing.Store(true)
				probe()
				probe()
				if probe() != "open" {
					t.Fatal("did not open")
				}
				failing.Store(false)
				time.Sleep(100 * time.Millisecond) // past open_timeout: half-open
				// Three blocking probes at once: the half-open breaker lets
				// half_open_requests of them through and refuses the rest.
				results := make(chan string, 3)
				for range 3 {
					go func() { results <- slow() }()
				}
				for range wantHeld {
					<-gate.entered
				}
				refused := 0
				for range 3 - wantHeld {
					if <-results == "open" {
						refused++
					}
				}
				close(gate.release)
				for range wantHeld {
					<-results
				}
				if refused != 3-wantHeld {
					t.Errorf("half_open_requests %s: %d of 3 concurrent probes refused, want %d", n, refused, 3-wantHeld)
				}
			}
		})
	}
	t.Run("outbound/disabled", func(t *testing.T) {
		probe, failing, _, _ := outboundBreaker(t, map[string]string{"RESILIENCE__CLIENT__BREAKER__ENABLED": "false", "RESILIENCE__CLIENT__BREAKER__MIN_REQUESTS": "2"})
		failing.Store(true)
		for range 5 {
			if probe() == "open" {
				t.Fatal("the outbound breaker opened while disabled")
			}
		}
	})
	t.Run("inbound/disabled by default", func(t *testing.T) {
		r, failing, _, _ := startResilience(t, map[string]string{"RESILIENCE__BREAKER__MIN_REQUESTS": "2"})
		failing.Store(true)
		if got := statuses(t, r, "/api/v1/flaky", 5, nil); count(got, 503) != 0 {
			t.Errorf("breaker off: %v", got)
		}
	})
}

// concurrent starts n requests to path at once and returns a function that
// waits for their status codes.
func concurrent(t *testing.T, r *running, path string, n int) func() []int {
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() { codes[i] = statuses(t, r, path, 1, nil)[0] })
	}
	return func() []int { wg.Wait(); return codes }
}

func TestBulkhead(t *testing.T) {
	r, _, slow, slowGroup := startResilience(t, map[string]string{
		"RESILIENCE__BULKHEAD__MAX_CONCURRENT": "1", "RESILIENCE__BULKHEAD__MAX_WAIT": "10ms", "RESILIENCE__BULKHEAD__GROUPS": "slow=2",
	})
	wait := concurrent(t, r, "/api/v1/slow", 1)
	<-slow.entered
	if got := statuses(t, r, "/api/v1/slow", 1, nil)[0]; got != 503 {
		t.Errorf("second request into a bulkhead of 1: %d, want 503", got)
	}
	close(slow.release)
	wait()

	// The "slow" group (Route.Group) has its own bulkhead of 2.
	waitGroup := concurrent(t, r, "/api/v1/slowgroup", 2)
	<-slowGroup.entered
	<-slowGroup.entered
	if got := statuses(t, r, "/api/v1/slowgroup", 1, nil)[0]; got != 503 {
		t.Errorf("third request into the slow group's bulkhead of 2: %d, want 503", got)
	}
	close(slowGroup.release)
	if got := waitGroup(); count(got, 204) != 2 {
		t.Errorf("held requests: %v", got)
	}

	// A long max_wait queues instead of refusing.
	q, _, qslow, _ := startResilience(t, map[string]string{"RESILIENCE__BULKHEAD__MAX_CONCURRENT": "1", "RESILIENCE__BULKHEAD__MAX_WAIT": "10s"})
	held := concurrent(t, q, "/api/v1/slow", 1)
	<-qslow.entered
	queued := concurrent(t, q, "/api/v1/hello", 1)
	close(qslow.release)
	if got := append(held(), queued()...); count(got, 204) != 2 {
		t.Errorf("max_wait 10s: %v, want both served", got)
	}
}

func TestShedding(t *testing.T) {
	for limit, admitted := range map[string]int{"1": 1, "2": 2} {
		r, _, slow, _ := startResilience(t, map[string]string{
			"RESILIENCE__SHEDDING__ENABLED": "true", "RESILIENCE__SHEDDING__INITIAL_LIMIT": limit,
			"RESILIENCE__SHEDDING__MIN_LIMIT": limit, "RESILIENCE__SHEDDING__MAX_LIMIT": limit,
		})
		held := concurrent(t, r, "/api/v1/slow", admitted)
		for range admitted {
			<-slow.entered
		}
		if got := statuses(t, r, "/api/v1/hello", 1, nil)[0]; got != 503 {
			t.Errorf("limit %s with %d in flight: %d, want 503", limit, admitted, got)
		}
		close(slow.release)
		held()
	}
	off, _, offSlow, _ := startResilience(t, map[string]string{"RESILIENCE__SHEDDING__INITIAL_LIMIT": "1", "RESILIENCE__SHEDDING__MIN_LIMIT": "1", "RESILIENCE__SHEDDING__MAX_LIMIT": "1"})
	held := concurrent(t, off, "/api/v1/slow", 1)
	<-offSlow.entered
	if got := statuses(t, off, "/api/v1/hello", 1, nil)[0]; got != 204 {
		t.Errorf("shedding off: %d", got)
	}
	close(offSlow.release)
	held()
}

// downstream answers status, with Retry-After when retryAfter is set, and
// counts hits; /slow sleeps first.
func downstream(t *testing.T, status int, retryAfter string) (*httptest.Server, *atomic.Int64) {
	hits := &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func clientCall(t *testing.T, r *running, url string) error {
	resp, err := r.svc.Client().Get(url)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestClientConfig(t *testing.T) {
	t.Run("max_retries", func(t *testing.T) {
		for retries, want := range map[string]int64{"0": 1, "2": 3} {
			srv, hits := downstream(t, 503, "")
			r, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__MAX_RETRIES": retries, "RESILIENCE__CLIENT__BACKOFF_BASE": "1ms"})
			_ = clientCall(t, r, srv.URL)
			if hits.Load() != want {
				t.Errorf("max_retries %s: %d attempts, want %d", retries, hits.Load(), want)
			}
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv, _ := downstream(t, 204, "")
		short, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__TIMEOUT": "50ms", "RESILIENCE__CLIENT__MAX_RETRIES": "0"})
		if err := clientCall(t, short, srv.URL+"/slow"); err == nil {
			t.Error("timeout 50ms: a 300ms call succeeded")
		}
		long, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__TIMEOUT": "5s"})
		if err := clientCall(t, long, srv.URL+"/slow"); err != nil {
			t.Errorf("timeout 5s: %v", err)
		}
	})
	t.Run("backoff_max bounds Retry-After", func(t *testing.T) {
		for backoffMax, want := range map[string]int64{"500ms": 1, "3s": 2} {
			srv, hits := downstream(t, 503, "1")
			r, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__MAX_RETRIES": "1", "RESILIENCE__CLIENT__BACKOFF_MAX": backoffMax})
			_ = clientCall(t, r, srv.URL)
			if hits.Load() != want {
				t.Errorf("backoff_max %s with Retry-After 1: %d attempts, want %d", backoffMax, hits.Load(), want)
			}
		}
	})
	t.Run("backoff_base", func(t *testing.T) {
		// A first backoff of up to an hour (full jitter) cannot fit in the
		// caller's 300ms: no retry is attempted.
		srv, hits := downstream(t, 503, "")
		r, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__BACKOFF_BASE": "1h", "RESILIENCE__CLIENT__BACKOFF_MAX": "1h"})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if resp, err := r.svc.Client().Do(req); err == nil {
			resp.Body.Close()
		}
		if hits.Load() != 1 {
			t.Errorf("backoff_base 1h: %d attempts within 300ms, want 1", hits.Load())
		}
	})
	t.Run("retry_budget", func(t *testing.T) {
		attempts := map[string]int64{}
		for _, budget := range []string{"0", "1"} {
			srv, hits := downstream(t, 503, "")
			r, _, _, _ := startResilience(t, map[string]string{
				"RESILIENCE__CLIENT__MAX_RETRIES": "1", "RESILIENCE__CLIENT__BACKOFF_BASE": "1ms", "RESILIENCE__CLIENT__RETRY_BUDGET": budget,
				"RESILIENCE__CLIENT__BREAKER__ENABLED": "false",
			})
			for range 40 {
				_ = clientCall(t, r, srv.URL)
			}
			attempts[budget] = hits.Load()
		}
		// Budget 1 retries every request; budget 0 only the small
		// per-second floor.
		if attempts["1"] != 80 || attempts["0"] > 60 {
			t.Errorf("attempts for 40 failing calls: %v, want 80 with budget 1 and far fewer with 0", attempts)
		}
	})
	t.Run("max_concurrent_per_host", func(t *testing.T) {
		entered, release := make(chan struct{}, 4), make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
		}))
		defer srv.Close()
		defer close(release)
		r, _, _, _ := startResilience(t, map[string]string{"RESILIENCE__CLIENT__MAX_CONCURRENT_PER_HOST": "1", "RESILIENCE__CLIENT__TIMEOUT": "10s", "RESILIENCE__CLIENT__MAX_RETRIES": "0"})
		first := make(chan error, 1)
		go func() { first <- clientCall(t, r, srv.URL) }()
		<-entered
		// The host's one slot is taken: a second call waits for it and
		// gives up with its caller, never reaching the host.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if resp, err := r.svc.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Error("a second call got through a per-host limit of 1")
		}
		if len(entered) != 0 {
			t.Error("the second call reached the host")
		}
		release <- struct{}{}
		if err := <-first; err != nil {
			t.Errorf("first call: %v", err)
		}
	})
}
