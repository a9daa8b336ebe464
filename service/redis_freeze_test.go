package service

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/troupehq/troupe/internal/redistest"
)

// The budget and probe interval the freeze tests configure, and how long
// they keep Redis frozen: long enough that the old client (3–5 s socket
// timeouts, retries) cannot hide inside it.
const (
	freezeBudget = 50 * time.Millisecond
	freezeProbe  = time.Second
	freezeFor    = 1500 * time.Millisecond
	freezeLoad   = 8 // concurrent clients
	// freezePause is each client's pause between requests: a load, not a
	// saturation of the 2-core CI machine, whose queueing would swamp the
	// latencies measured.
	freezePause = 2 * time.Millisecond
)

// timedRequest is one request the load sent: when it started and ended, and
// its status (0 for a transport error).
type timedRequest struct {
	start, end time.Time
	status     int
}

// freezeRun is what a load around a Redis freeze saw.
type freezeRun struct {
	exchanges        []timedRequest
	frozen, thawed   time.Time
	recovery         time.Duration // from Thaw until recovered first held
	readinessFrozen  string        // the admin readiness body during the freeze
	readinessThawed  string        // and after recovery
	baseline, during []time.Duration
}

// runFreeze sends requests to r from freezeLoad clients, freezes srv with
// SIGSTOP after a baseline, thaws it after freezeFor and then waits for
// recovered. send makes one request and returns its status.
func runFreeze(t *testing.T, r *running, srv *redistest.Server, send func(*http.Client) int, recovered func() bool) *freezeRun {
	t.Helper()
	client := &http.Client{
		Timeout:   30 * time.Second, // the old client could stall a request for seconds; never forever
		Transport: &http.Transport{MaxIdleConnsPerHost: freezeLoad},
	}
	defer client.CloseIdleConnections()
	stop := make(chan struct{})
	var (
		mu  sync.Mutex
		run freezeRun
		wg  sync.WaitGroup
	)
	for range freezeLoad {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				e := timedRequest{start: time.Now()}
				e.status = send(client)
				e.end = time.Now()
				mu.Lock()
				run.exchanges = append(run.exchanges, e)
				mu.Unlock()
				time.Sleep(freezePause)
			}
		})
	}
	t.Cleanup(srv.Thaw) // never leave a stopped redis-server behind a failed test

	time.Sleep(500 * time.Millisecond) // the baseline
	run.frozen = time.Now()
	srv.Freeze()
	time.Sleep(freezeFor / 2)
	_, body := get(t, r.adminBase()+"/readyz")
	run.readinessFrozen = string(body)
	time.Sleep(freezeFor - time.Since(run.frozen))
	run.thawed = time.Now()
	srv.Thaw()

	deadline := run.thawed.Add(10 * time.Second)
	for !recovered() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	run.recovery = time.Since(run.thawed)
	// Readiness follows on its own schedule (a check's result is kept for
	// a moment), so it may still warn just after requests recovered.
	for {
		_, body = get(t, r.adminBase()+"/readyz")
		run.readinessThawed = string(body)
		if !strings.Contains(run.readinessThawed, `"warn"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	for _, e := range run.exchanges {
		switch {
		case e.end.Before(run.frozen):
			run.baseline = append(run.baseline, e.end.Sub(e.start))
		case e.start.Before(run.thawed):
			run.during = append(run.during, e.end.Sub(e.start)) // in flight at some point of the freeze
		}
	}
	slices.Sort(run.baseline)
	slices.Sort(run.during)
	t.Logf("baseline: %d requests, p50 %v p99 %v; during the freeze: %d requests, p50 %v p99 %v max %v; recovery %v after SIGCONT",
		len(run.baseline), percentile(run.baseline, 50), percentile(run.baseline, 99),
		len(run.during), percentile(run.during, 50), percentile(run.during, 99), percentile(run.during, 100), run.recovery)
	return &run
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// checkLatency asserts the targets for requests in flight during
// the freeze: none waits much more than the budget, and the p99 is at most
// twice the budget over the normal p99. The slack is for a loaded 2-core
// CI machine running every package's race tests at once; the old client
// failed both by seconds.
func (run *freezeRun) checkLatency(t *testing.T) {
	t.Helper()
	if len(run.baseline) == 0 || len(run.during) < freezeLoad {
		t.Fatalf("too little load: %d requests before the freeze, %d during", len(run.baseline), len(run.during))
	}
	const slack = 150 * time.Millisecond
	if worst := percentile(run.during, 100); worst > time.Second {
		t.Errorf("a request in flight during the freeze took %v; the Redis budget is %v", worst, freezeBudget)
	}
	if p99, limit := percentile(run.during, 99), 2*freezeBudget+percentile(run.baseline, 99)+slack; p99 > limit {
		t.Errorf("p99 during the freeze = %v, want at most %v (2 × budget %v + normal p99 %v + slack %v)",
			p99, limit, freezeBudget, percentile(run.baseline, 99), slack)
	}
	// The slack covers a probe whose PING a loaded machine delays past the
	// budget: the next one, an interval later, closes the guard.
	if run.recovery > 2*freezeProbe {
		t.Errorf("recovered %v after SIGCONT, want within one probe interval (%v) plus slack", run.recovery, freezeProbe)
	}
	if !strings.Contains(run.readinessFrozen, `"warn"`) || !strings.Contains(run.readinessFrozen, `"redis"`) {
		t.Errorf("readiness during the freeze does not warn about Redis: %s", run.readinessFrozen)
	}
	if strings.Contains(run.readinessThawed, `"warn"`) {
		t.Errorf("readiness still warns after recovery: %s", run.readinessThawed)
	}
}

// statusesOf counts the statuses the load saw.
func (run *freezeRun) statusesOf() map[int]int {
	out := map[int]int{}
	for _, e := range run.exchanges {
		out[e.status]++
	}
	return out
}

// freezeEnv is the [redis] part of the freeze tests' configuration.
func freezeEnv(srv *redistest.Server, extra map[string]string) map[string]string {
	env := map[string]string{
		"REDIS__URL": srv.URL(), "REDIS__TIMEOUT": freezeBudget.String(), "REDIS__PROBE_INTERVAL": freezeProbe.String(),
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// rateLimitService starts a service whose per-IP limits (too high to
// refuse anything) are kept in srv, with extra settings.
func rateLimitService(t *testing.T, srv *redistest.Server, extra map[string]string) *running {
	t.Helper()
	env := map[string]string{
		"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__STORE": "redis", "RATE_LIMIT__PER_IP_RPM": "10000000",
		"HTTP__TRUSTED_PROXIES": "127.0.0.1", "REDIS__URL": srv.URL(),
	}
	for k, v := range extra {
		env[k] = v
	}
	r, _, _, _ := startResilience(t, env)
	return r
}

// hello sends GET /api/v1/hello as forwardedFor (the connection's address
// when "") and returns the status, 0 for a transport error.
func hello(c *http.Client, r *running, forwardedFor string) int {
	req, _ := http.NewRequest(http.MethodGet, r.base()+"/api/v1/hello", nil)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// redisDecides returns a check that a request now is decided by Redis, not
// by the failure policy: one from a new address leaves its key in Redis.
func redisDecides(r *running, srv *redistest.Server, t *testing.T) func() bool {
	rc, n := srv.Client(t), 0
	return func() bool {
		n++
		ip := fmt.Sprintf("198.51.%d.%d", n/250, n%250)
		hello(http.DefaultClient, r, ip)
		found, err := rc.Exists(context.Background(), "rate:test:ip:"+ip).Result()
		return err == nil && found == 1
	}
}

// TestRedisFreezeRateLimit freezes the Redis of the rate limits mid-load:
// requests wait at most the Redis budget, then the failure policy decides
// (fallback: never a 5xx) without asking Redis until a probe sees it
// answer again.
func TestRedisFreezeRateLimit(t *testing.T) {
	srv := redistest.Start(t)
	r := rateLimitService(t, srv, freezeEnv(srv, nil))
	run := runFreeze(t, r, srv, func(c *http.Client) int { return hello(c, r, "") }, redisDecides(r, srv, t))
	if got := run.statusesOf(); got[204] != len(run.exchanges) {
		t.Errorf("statuses %v, want every request served (204): the fallback policy never fails a request", got)
	}
	run.checkLatency(t)
}

// TestRedisTimeoutAndProbeInterval observes both keys: a request to a
// frozen Redis waits redis.timeout (not go-redis's seconds, not a fixed
// budget), the third such request opens the guard, and a thawed Redis
// decides again after the next probe, which redis.probe_interval times.
func TestRedisTimeoutAndProbeInterval(t *testing.T) {
	// slack absorbs a CI machine running every package's -race tests at
	// once, where a loopback round trip has been seen to take over half a
	// second. The lower bound (a request waits at least the budget) tells
	// the two budgets apart; the upper one still catches go-redis's own
	// 3 s read timeout.
	const slack = time.Second
	for _, tc := range []struct{ timeout, probe time.Duration }{
		{20 * time.Millisecond, 200 * time.Millisecond},
		{250 * time.Millisecond, 2 * time.Second},
	} {
		srv := redistest.Start(t)
		r := rateLimitService(t, srv, map[string]string{"REDIS__TIMEOUT": tc.timeout.String(), "REDIS__PROBE_INTERVAL": tc.probe.String()})
		decides := redisDecides(r, srv, t)
		if !decides() {
			t.Fatal("Redis does not decide before the freeze")
		}
		srv.Freeze()
		t.Cleanup(srv.Thaw)
		for i := range 3 {
			start := time.Now()
			status := hello(http.DefaultClient, r, "")
			if took := time.Since(start); status != 204 || took < tc.timeout || took > tc.timeout+slack {
				t.Fatalf("timeout %v: request %d to a frozen Redis: %d after %v, want 204 after the budget", tc.timeout, i, status, took)
			}
		}
		// Open: no more waiting (told apart from a loaded machine's noise
		// only with the longer budget).
		start := time.Now()
		if status, took := hello(http.DefaultClient, r, ""), time.Since(start); status != 204 || tc.timeout >= 250*time.Millisecond && took >= tc.timeout {
			t.Fatalf("timeout %v: request after three timeouts: %d after %v, want 204 without waiting", tc.timeout, status, took)
		}
		srv.Thaw()
		thawed := time.Now()
		if tc.probe > time.Second {
			time.Sleep(tc.probe / 2)
			if decides() {
				t.Fatalf("probe_interval %v: Redis decided again %v after the thaw, before any probe", tc.probe, time.Since(thawed))
			}
		}
		for !decides() {
			if time.Since(thawed) > tc.probe+slack {
				t.Fatalf("probe_interval %v: Redis does not decide %v after the thaw", tc.probe, time.Since(thawed))
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("timeout %v, probe_interval %v: Redis decides again %v after the thaw", tc.timeout, tc.probe, time.Since(thawed))
	}
}

// TestRedisFreezeRevocation freezes the Redis of token revocation
// mid-load: a lookup waits at most the budget, then, fail-closed, every
// protected request is a fast 503 until a probe sees Redis answer again.
func TestRedisFreezeRevocation(t *testing.T) {
	srv := redistest.Start(t)
	r := start(t, authEnv(freezeEnv(srv, map[string]string{
		"AUTH__REVOCATION__ENABLED": "true", "AUTH__REVOCATION__STORE": "redis",
	})), WithAPI(authAPI()))
	token := hs(t, jwt.SigningMethodHS256, claims(nil))
	send := func(c *http.Client) int {
		req, _ := http.NewRequest(http.MethodGet, r.base()+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
			return -503 // a 503 without Retry-After is not the fail-closed answer
		}
		return resp.StatusCode
	}
	run := runFreeze(t, r, srv, send, func() bool {
		status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil)
		return status == 200
	})
	got := run.statusesOf()
	if got[200]+got[503] != len(run.exchanges) || got[503] == 0 {
		t.Errorf("statuses %v, want 200 and, while Redis is frozen, fail-closed 503s with Retry-After only", got)
	}
	run.checkLatency(t)
}
