package inspect

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

// TestConsoleViews renders every view: complete HTML without script, the
// console's own script and style only, and the figures in the page.
func TestConsoleViews(t *testing.T) {
	c := devConfig()
	c.FailCycles = true
	i, s := testSystem(t, c, Options{})
	a, _ := s.Spawn("alpha", echo)
	b, _ := s.Spawn("beta", echo)
	_, _ = s.Request(context.Background(), a, "hi")
	_, _ = s.Request(context.Background(), a, relay{b, a})
	waitEvents(t, i, EventFilter{Kind: KindCycleResolved}, 1)
	srv := serve(t, i, DefaultConsoleConfig())
	for path, want := range map[string][]string{
		"/console":                                {"Overview", "Request cycles waiting now", "data-live=\"stats.recorded\""},
		"/console/actors":                         {"<table id=\"actors\"", "alpha#", "beta#", "data-actor=", "data-f=\"messages\""},
		"/console/actors?sort=p99&q=al":           {"alpha#", "actors matching “al”"},
		fmt.Sprintf("/console/actors/%d", a.ID()): {"p99 processing", "replied", "cycle_resolved", "failed fast"},
		"/console/events":                         {"Download the window", "format=csv", "cycle_resolved"},
		"/console/events?kind=cycle":              {"alpha#"},
		"/console/cycles":                         {"failed fast", "waits on"},
		"/console/components":                     {"no WASM components"},
		"/console/resilience":                     {"Circuit breakers", "metrics, which are off"},
		"/console/config":                         {"not available"},
		"/console/static/console.js":              {"EventSource"},
	} {
		resp, body := fetch(t, srv.URL+path)
		if resp.StatusCode != 200 {
			t.Errorf("%s = %d", path, resp.StatusCode)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		if strings.HasSuffix(path, ".js") {
			continue
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s has inline script or an outside reference", path)
		}
	}
}

// TestConsoleManyActors: with 100,000 actors the console and the API
// answer a page or a top-N, not the whole tree, and stay quick.
func TestConsoleManyActors(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 100,000 actors")
	}
	i, s := testSystem(t, devConfig(), Options{})
	const n = 100_000
	var top actors.Ref
	for k := range n {
		ref, err := s.SpawnActor("", echoActor{})
		if err != nil {
			t.Fatal(err)
		}
		if k == n/2 {
			top = ref
		}
	}
	// One actor works, so it leads the top by rate.
	for range 20 {
		_, _ = s.Request(context.Background(), top, "hi")
	}
	srv := serve(t, i, DefaultConsoleConfig())
	for _, path := range []string{"/inspect/actors?sort=rate&top=10", "/console/actors?sort=rate&limit=10", "/inspect/actors?offset=99990", "/console"} {
		start := time.Now()
		resp, body := fetch(t, srv.URL+path)
		took := time.Since(start)
		// Generous: a loaded 2-core machine under the race detector walks
		// 100,000 actors in about a second; a person would notice 10.
		if resp.StatusCode != 200 || took > 10*time.Second || len(body) > 200_000 {
			t.Errorf("%s: %d in %v, %d bytes", path, resp.StatusCode, took, len(body))
		}
		if strings.Contains(path, "sort=rate") && !strings.Contains(body, fmt.Sprint(top.ID())) {
			t.Errorf("%s does not show the busy actor first", path)
		}
	}
	if p := i.ActorsPage(ActorQuery{Sort: SortRate, Limit: 10}); p.Total != n || len(p.Actors) != 10 || p.Actors[0].ID != top.ID() {
		t.Errorf("page of %d: %d rows, first %d", p.Total, len(p.Actors), p.Actors[0].ID)
	}
}

// echoActor is echo by value, so 100,000 of them share no producer calls.
type echoActor struct{}

func (echoActor) Receive(c *actors.Context, msg any) {
	if m, ok := msg.(string); ok && c.CanRespond() {
		c.Respond(m)
	}
}
