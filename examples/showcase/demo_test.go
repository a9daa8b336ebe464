package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/inspect"
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
