package main

import (
	"net/http"
	"testing"

	"github.com/troupehq/troupe/internal/otlptest"
	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseTelemetry turns tracing on the way an operator would, with
// the standard variables' Troupe equivalents, and finds the notes routes'
// spans at the collector, named by route template.
func TestShowcaseTelemetry(t *testing.T) {
	collector := otlptest.NewReceiver(t)
	svc := servicetest.Start(t, "showcase", map[string]string{
		"TELEMETRY__TRACES__EXPORTER": "otlp",
		"TELEMETRY__OTLP__ENDPOINT":   collector.URL(),
	}, testOptions()...)
	for _, path := range []string{"/api/v2/notes/3", "/api/v2/notes/4", "/api/v2/stats"} {
		if resp, _ := svc.Do(t, http.MethodGet, path, "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
	}
	if err := svc.Stop(); err != nil { // flushes the spans
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, s := range collector.Spans() {
		names[s.GetName()]++
	}
	if names["GET /api/v2/notes/:id"] != 2 || names["GET /api/v2/stats"] != 1 {
		t.Errorf("span names %v, want 2 × GET /api/v2/notes/:id and 1 × GET /api/v2/stats", names)
	}
}
