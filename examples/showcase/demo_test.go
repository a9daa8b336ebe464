package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/inspect"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseDemoCycle: with app.demo_routes the cycle demo forms a
// request cycle that the inspector reports; with inspect.fail_cycles it is
// broken at once (508); without app.demo_routes the route is not there.
func TestShowcaseDemoCycle(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{"APP__DEMO_ROUTES": "true", "INSPECT__FAIL_CYCLES": "true"}, testOptions()...)
	resp, body := svc.Do(t, http.MethodGet, "/api/v2/demo/cycle", "", nil)
	if resp.StatusCode != http.StatusLoopDetected || !strings.Contains(body, "demo-a#") {
		t.Fatalf("GET /api/v2/demo/cycle = %d %s", resp.StatusCode, body)
	}
	var cs inspect.Cycles
	adminJSON(t, svc.AdminURL+"/inspect/cycles", &cs)
	if cs.Detected != 1 || !strings.HasPrefix(cs.Recent[0].Actors, "demo-a#") || cs.Recent[0].Resolution != "failed fast" {
		t.Errorf("cycles %+v", cs)
	}
	var st inspect.Stats
	adminJSON(t, svc.AdminURL+"/inspect/stats", &st)
	if st.Mode != inspect.Analysis || st.SamplingRate != 0.1 {
		t.Errorf("the showcase's inspector: %+v", st)
	}

	off := servicetest.Start(t, "showcase", nil, testOptions()...)
	if resp, body := off.Do(t, http.MethodGet, "/api/v2/demo/cycle", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("without app.demo_routes: %d %s", resp.StatusCode, body)
	}
	if _, err := off.Actors().Lookup(demoA); err == nil {
		t.Error("the demo's actors run without app.demo_routes")
	}
}

func adminJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// TestShowcaseDemoIsForOneNode: the demo's actors are spawned before a
// clustered actor system joins, so the showcase refuses to start with both,
// naming the key, rather than retry the join for two minutes.
func TestShowcaseDemoIsForOneNode(t *testing.T) {
	svc, err := service.New("showcase", append(testOptions(), service.WithLogOutput(io.Discard), service.WithConfigLoader(config.Loader{
		Environ: []string{"SHOWCASE_APP__DEMO_ROUTES=true", "SHOWCASE_ACTORS__CLUSTER__ENABLED=true", "SHOWCASE_NATS__JETSTREAM__STORE=memory",
			"SHOWCASE_HTTP__ADDRESS=127.0.0.1:0", "SHOWCASE_ADMIN__ADDRESS=127.0.0.1:0"},
		ConfigHome: t.TempDir(), ConfigDirs: []string{}, WorkDir: t.TempDir(),
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = svc.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "app.demo_routes (from env SHOWCASE_APP__DEMO_ROUTES): the request-cycle demo runs on one node") {
		t.Fatalf("Run = %v", err)
	}
}
