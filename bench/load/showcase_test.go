package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRunShowcase runs the showcase mode end to end for a fraction of a
// second: both routes answer as expected, each round has a server CPU
// figure, and the report's table names both routes with the summary's
// ratio to the native route.
func TestRunShowcase(t *testing.T) {
	requireLinux(t)
	if testing.Short() {
		t.Skip("builds and starts the showcase, which builds its component")
	}
	allowed, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) < 2 {
		t.Skipf("the showcase mode needs two CPUs; this process may use %v", allowed)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := settings{Duration: 200 * time.Millisecond, Rounds: 2, Concurrency: 4, Warmup: 50 * time.Millisecond,
		Showcase: true, ServerCPU: allowed[1], ClientCPU: allowed[0]}
	var out bytes.Buffer
	rep, err := runShowcase(context.Background(), s, &out)
	if err != nil {
		t.Fatalf("runShowcase: %v\n%s", err, out.String())
	}
	if len(rep.targets) != len(showcaseRoutes) {
		t.Fatalf("%d routes, want %d", len(rep.targets), len(showcaseRoutes))
	}
	for _, r := range rep.targets {
		if r.total.requests == 0 || r.total.errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%q); want some and none", r.name, r.total.requests, r.total.errors, r.total.samples)
		}
		if len(r.cpuPerRequest) != s.Rounds || median(r.cpuPerRequest) <= 0 {
			t.Errorf("%s: server µs/request %v, want %d positive", r.name, r.cpuPerRequest, s.Rounds)
		}
	}
	if rep.startRSS == 0 || rep.endRSS == 0 {
		t.Errorf("RSS %d at start, %d after load; want both measured", rep.startRSS, rep.endRSS)
	}
	for _, want := range []string{"| notes/:id (native) |", "| notes/:id/summary (WASM) |", "ratio to native", "-showcase -server-cpu"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
