package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite testdata/histograms.golden from the running code")

// histogramFamilies are the histograms the full service records on every
// request: the three of the telemetry stage, the bulkhead's wait and the
// authorization's duration.
var histogramFamilies = []string{
	"http_server_request_duration_seconds",
	"http_server_request_body_size_bytes",
	"http_server_response_body_size_bytes",
	"troupe_bulkhead_queue_duration_seconds",
	"troupe_authz_duration_seconds",
}

// TestHistogramExposition pins what Prometheus scrapes of the request
// histograms of the full service after 5 requests: each family's type, help
// text and series, with every label (scope labels and le included), the
// sample counts, and the bucket counts of the byte sizes (the durations'
// buckets depend on the machine's speed). The golden file was written by
// the OpenTelemetry SDK's own histograms (commit fcd995a), so Troupe's
// histograms, exported through a metric.Producer, must scrape the same.
func TestHistogramExposition(t *testing.T) {
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
	auth, err := troupeFull.authorization(1)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr+helloPath, nil)
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", helloPath, resp.StatusCode)
		}
	}
	resp, err := client.Get("http://" + srv.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := histogramShape(families)

	golden := filepath.Join("testdata", "histograms.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the request histograms scrape differently from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// histogramShape writes the families of histogramFamilies one line per
// series and bucket, sorted, leaving out what varies from run to run.
func histogramShape(families map[string]*dto.MetricFamily) string {
	var lines []string
	for _, name := range histogramFamilies {
		f := families[name]
		if f == nil {
			lines = append(lines, name+" missing")
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s %q", name, f.GetType(), f.GetHelp()))
		exact := strings.HasSuffix(name, "_bytes")
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			series := name + "{" + strings.Join(ls, ",") + "}"
			h := m.GetHistogram()
			line := fmt.Sprintf("%s count=%d", series, h.GetSampleCount())
			if exact {
				line += fmt.Sprintf(" sum=%g", h.GetSampleSum())
			}
			lines = append(lines, line)
			for _, b := range h.GetBucket() {
				line := fmt.Sprintf("%s le=%g", series, b.GetUpperBound())
				if exact {
					line += fmt.Sprintf(" cumulative=%d", b.GetCumulativeCount())
				}
				lines = append(lines, line)
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
