package service

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches url and parses it as the Prometheus text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return families
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// TestPrometheusEndpoint scrapes the admin listener after requests to 1,000
// distinct note IDs: the request metrics exist with one series per route and
// status class — no label grows with the IDs — next to the Go runtime and
// process metrics.
func TestPrometheusEndpoint(t *testing.T) {
	r := startTelemetry(t, nil, "")
	for i := range 1000 {
		if resp := request(t, r.base()+"/api/v2/notes/"+strconv.Itoa(i), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET note %d: %d", i, resp.StatusCode)
		}
	}
	request(t, r.base()+"/api/v2/fail", nil)
	request(t, r.base()+"/nowhere/"+strconv.Itoa(12345), nil)

	families := scrape(t, r.adminBase()+"/metrics")
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
	duration := families["http_server_request_duration_seconds"]
	if duration == nil || duration.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("http_server_request_duration_seconds = %v, want a histogram", duration)
	}
	series := map[string]uint64{}
	for _, m := range duration.GetMetric() {
		l := labels(m)
		for name, value := range l {
			if strings.Contains(value, "12345") || strings.Contains(value, "/999") {
				t.Errorf("label %s=%q carries a raw path", name, value)
			}
		}
		series[l["http_request_method"]+" "+l["http_route"]+" "+l["http_response_status_class"]+" "+l["troupe_api_version"]] = m.GetHistogram().GetSampleCount()
	}
	if got := series["GET /api/v2/notes/:id 2xx v2"]; got != 1000 {
		t.Errorf("note series counted %d requests, want 1000; series: %v", got, series)
	}
	if got := series["GET /api/v2/fail 5xx v2"]; got != 1 {
		t.Errorf("fail series counted %d, want 1; series: %v", got, series)
	}
	if len(series) != 3 {
		t.Errorf("%d series, want 3 (notes, fail, unmatched): %v", len(series), series)
	}
	for _, name := range []string{"http_server_active_requests", "http_server_request_body_size_bytes", "http_server_response_body_size_bytes"} {
		if families[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
}

// TestPrometheusSwitches checks telemetry.prometheus.enabled (off: no
// /metrics on the admin listener) and telemetry.prometheus.address (a
// plaintext listener serving /metrics alone).
func TestPrometheusSwitches(t *testing.T) {
	off := startTelemetry(t, map[string]string{"TELEMETRY__PROMETHEUS__ENABLED": "false"}, "")
	if resp, _ := get(t, off.adminBase()+"/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics with prometheus disabled: %d, want 404", resp.StatusCode)
	}

	dedicated := startTelemetry(t, map[string]string{"TELEMETRY__PROMETHEUS__ADDRESS": "127.0.0.1:0", "ADMIN__ADDRESS": ""}, "")
	request(t, dedicated.base()+"/api/v2/notes/1", nil)
	addr := ""
	for line := range strings.Lines(dedicated.logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "service started" {
			addr, _ = rec["metrics_address"].(string)
		}
	}
	if addr == "" {
		t.Fatalf("no metrics_address in the start-up log:\n%s", dedicated.logs.String())
	}
	if families := scrape(t, "http://"+addr+"/metrics"); families["http_server_request_duration_seconds"] == nil {
		t.Error("the metrics listener does not serve the request metrics")
	}
	if resp, _ := get(t, "http://"+addr+"/healthz"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener serves /healthz: %d, want 404", resp.StatusCode)
	}
}
