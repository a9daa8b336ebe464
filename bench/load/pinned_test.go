package main

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

func TestPinnedReport(t *testing.T) {
	round := func(requests uint64, latency, serverCPU, clientCPU time.Duration) *pinnedRound {
		res := &roundResult{requests: requests, elapsed: time.Second, hist: histogram.New()}
		for range requests {
			res.hist.Record(latency)
		}
		return &pinnedRound{result: res, serverCPU: serverCPU, clientCPU: clientCPU}
	}
	base := &pinnedTarget{name: "bare", total: roundResult{hist: histogram.New()}, startRSS: 7600 << 10, endRSS: 13 << 20}
	other := &pinnedTarget{name: "framework", total: roundResult{hist: histogram.New()}, startRSS: 24 << 20, endRSS: 30 << 20}
	// Three rounds each, one disturbed: the medians ignore it.
	for _, r := range []*pinnedRound{
		round(50000, time.Millisecond, 900*time.Millisecond, 600*time.Millisecond),
		round(40000, time.Millisecond, 900*time.Millisecond, 600*time.Millisecond),
		round(10000, 5*time.Millisecond, 500*time.Millisecond, 100*time.Millisecond),
	} {
		base.addRound(r)
	}
	for _, r := range []*pinnedRound{
		round(25000, 2*time.Millisecond, time.Second, 300*time.Millisecond),
		round(20000, 2*time.Millisecond, time.Second, 300*time.Millisecond),
		round(30000, 2*time.Millisecond, time.Second, 300*time.Millisecond),
	} {
		other.addRound(r)
	}
	other.addWarmup(&roundResult{errors: 2, samples: []string{"status 401"}, hist: histogram.New()})
	rep := &pinnedReport{
		settings:   settings{Duration: time.Second, Rounds: 3, Concurrency: 32, Warmup: time.Second, Pinned: true, ServerCPU: 1, ClientCPU: 0},
		env:        environment{maxProcs: 1, numCPU: 2, cpu: "test cpu"},
		loadBefore: "0.10 0.20 0.30", loadAfter: "1.00 0.50 0.40",
		targets: []*pinnedTarget{base, other},
	}
	var out bytes.Buffer
	if err := rep.write(&out); err != nil {
		t.Fatal(err)
	}
	// bare: median 40,000 req/s; µs/req of the rounds 18, 22.5, 50 → 22.5;
	// its latencies are mixed, so p50 and p99 are histogram bucket midpoints.
	// framework: median 25,000 req/s; µs/req 40, 50, 33.3 → 40.
	for _, want := range []string{
		"command:  go run ./bench/load -pinned -server-cpu 1 -client-cpu 0 -duration 1s -rounds 3 -concurrency 32 -warmup 1s",
		"machine:  load average 0.10 0.20 0.30 before, 1.00 0.50 0.40 after",
		"on CPU 1 with GOMAXPROCS=1; generator (Go, raw HTTP/1.1) on CPU 0 with GOMAXPROCS=1",
		"per round, bare: req/s 50000, 40000, 10000; server µs/req 18.0, 22.5, 50.0",
		"| server (same run) | req/s (median of 3) | ratio to bare | server CPU per request | over bare | start RSS | RSS after load | p50 | p99 |",
		"| bare | 40,000 | 1.00× | 22.5 µs | — | 7.4 MiB | 13.0 MiB | 1.001 ms | 4.997 ms | 90% | 60% | 0 |",
		"| framework | 25,000 | 0.62× | 40.0 µs | +17.5 µs | 24.0 MiB | 30.0 MiB | 2.000 ms | 2.000 ms | 100% | 30% | 2 |",
		"framework: 2 failed requests",
		"  status 401",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if rep.errors() != 2 {
		t.Errorf("errors() = %d, want 2", rep.errors())
	}
}

func TestPinnedRoundWithoutRequests(t *testing.T) {
	r := &pinnedRound{result: &roundResult{hist: histogram.New()}, serverCPU: time.Second}
	if r.cpuPerRequest() != 0 || r.serverBusy() != 0 || r.generatorBusy() != 0 {
		t.Errorf("empty round: %v µs/req, busy %v and %v; want zeros", r.cpuPerRequest(), r.serverBusy(), r.generatorBusy())
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 77000.5: "77,000", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// requireLinux skips tests of what only Linux offers: CPU affinity and
// /proc.
func requireLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the pinned mode needs Linux")
	}
}

func TestCheckCPUs(t *testing.T) {
	requireLinux(t)
	allowed, err := allowedCPUs()
	if err != nil || len(allowed) == 0 {
		t.Fatalf("allowedCPUs = %v, %v", allowed, err)
	}
	if err := checkCPUs(allowed[0], allowed[0]); err == nil || !strings.Contains(err.Error(), "needs two CPUs") {
		t.Errorf("same CPU: err = %v", err)
	}
	if err := checkCPUs(maxCPU-1, allowed[0]); err == nil || !strings.Contains(err.Error(), "-server-cpu 1023: this process may only use CPUs") {
		t.Errorf("CPU not allowed: err = %v", err)
	}
}

func TestCLIRejectsNegativeCPUs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := cli([]string{"-pinned", "-server-cpu", "-1"}, &stdout, &stderr); code != 2 {
		t.Errorf("cli = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "-server-cpu and -client-cpu must not be negative") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

// TestRunPinned runs the whole pinned mode briefly: servers built, started
// pinned, loaded in turns, measured, stopped, and this process's affinity
// given back. It asserts what was measured exists, not how fast it was.
func TestRunPinned(t *testing.T) {
	requireLinux(t)
	if testing.Short() {
		t.Skip("builds and starts three server binaries")
	}
	allowed, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("the pinned mode needs two CPUs; this process may use %v", allowed)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := settings{Duration: 200 * time.Millisecond, Rounds: 2, Concurrency: 4, Warmup: 50 * time.Millisecond,
		Pinned: true, ServerCPU: allowed[1], ClientCPU: allowed[0]}
	var out bytes.Buffer
	rep, err := runPinned(context.Background(), s, &out)
	if err != nil {
		t.Fatalf("runPinned: %v\n%s", err, out.String())
	}
	if len(rep.targets) != 3 {
		t.Fatalf("%d targets, want bare Echo, Troupe defaults, Troupe full", len(rep.targets))
	}
	for i, tr := range rep.targets {
		if tr.name != serverKinds[i].name {
			t.Errorf("target %d is %q, want %q", i, tr.name, serverKinds[i].name)
		}
		if tr.total.requests == 0 || tr.total.errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%q); want some and none", tr.name, tr.total.requests, tr.total.errors, tr.total.samples)
		}
		if len(tr.cpuPerRequest) != s.Rounds || median(tr.cpuPerRequest) <= 0 {
			t.Errorf("%s: server µs/request %v, want %d positive", tr.name, tr.cpuPerRequest, s.Rounds)
		}
		if tr.startRSS == 0 || tr.endRSS == 0 {
			t.Errorf("%s: RSS %d at start, %d after load; want both measured", tr.name, tr.startRSS, tr.endRSS)
		}
	}
	after, err := allowedCPUs()
	if err != nil || len(after) != len(allowed) {
		t.Errorf("after the run this thread may use CPUs %v (%v), want %v again", after, err, allowed)
	}
	if !strings.Contains(out.String(), "| Troupe full | ") {
		t.Errorf("report lacks the full row:\n%s", out.String())
	}
}

// TestFullServerEnforcesWhatItClaims checks that the full target really
// runs what its row's name says: without a token it answers 401; with one,
// 200 with rate-limit headers, and its metrics show verified-token and
// decision cache hits, rate-limit decisions and bulkhead slots taken. (The
// breaker is on too, but a closed breaker with no failures records
// nothing; service's tests observe resilience.breaker.enabled.)
func TestFullServerEnforcesWhatItClaims(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, err := troupeFull.start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	}()
	client := newClient(1)
	defer client.CloseIdleConnections()
	get := func(url, auth string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		return resp, body.String()
	}
	hello := "http://" + srv.Addr + helloPath
	if resp, _ := get(hello, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}
	auth, err := troupeFull.authorization(3)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second is served from both caches
		if resp, _ := get(hello, auth); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit") == "" {
			t.Errorf("with a token: %d, headers %v; want 200 with RateLimit", resp.StatusCode, resp.Header)
		}
	}
	_, metrics := get("http://"+srv.AdminAddr+"/metrics", "")
	for _, want := range [][]string{
		{"troupe_auth_cache_lookups_total{", `troupe_auth_cache="token"`, `troupe_cache_result="hit"`},
		{"troupe_auth_cache_lookups_total{", `troupe_auth_cache="decision"`, `troupe_cache_result="hit"`},
		{"troupe_ratelimit_decisions_total{"},
		{"troupe_bulkhead_queue_duration_seconds_count{"},
	} {
		if !hasSeries(metrics, want) {
			t.Errorf("/metrics has no series with %q", want)
		}
	}
}

// hasSeries reports whether a line of a Prometheus text exposition starts
// with parts[0] and contains every other part.
func hasSeries(exposition string, parts []string) bool {
	for line := range strings.Lines(exposition) {
		if !strings.HasPrefix(line, parts[0]) {
			continue
		}
		all := true
		for _, p := range parts[1:] {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
