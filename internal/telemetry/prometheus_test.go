package telemetry

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/metric"
)

// scrape fetches h's exposition and parses it as a Prometheus server would.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape status = %d, body %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return families
}

func TestPrometheusHandler(t *testing.T) {
	tel, err := Setup(context.Background(), Config{ServiceName: "orders", Prometheus: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, tel)
	if tel.TracingEnabled() || !tel.MetricsEnabled() {
		t.Errorf("Prometheus alone: TracingEnabled %v, MetricsEnabled %v; want false, true", tel.TracingEnabled(), tel.MetricsEnabled())
	}
	h := tel.MetricsHandler()
	if h == nil {
		t.Fatal("MetricsHandler() = nil with Prometheus on")
	}
	for range 3 {
		recordDecision(tel.MeterProvider(), "/api/v1/orders/:id", "ip", "memory", "rejected")
	}
	// A duration histogram as the subsystems build theirs (actors/metrics.go).
	processing, err := Meter(tel.MeterProvider()).Float64Histogram(MetricActorProcessingDuration,
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(DurationBuckets...))
	if err != nil {
		t.Fatal(err)
	}
	processing.Record(context.Background(), (20 * time.Millisecond).Seconds())

	families := scrape(t, h)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "process_start_time_seconds", "target_info"} {
		if families[name] == nil {
			t.Errorf("scrape lacks %s", name)
		}
	}
	decisions := families["troupe_ratelimit_decisions_total"]
	if decisions == nil {
		t.Fatalf("scrape lacks troupe_ratelimit_decisions_total; has %d families", len(families))
	}
	m := decisions.GetMetric()
	if len(m) != 1 || m[0].GetCounter().GetValue() != 3 {
		t.Fatalf("troupe_ratelimit_decisions_total = %v, want one series at 3", m)
	}
	labels := map[string]string{}
	for _, l := range m[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for k, v := range map[string]string{
		"http_route": "/api/v1/orders/:id", "troupe_ratelimit_key_kind": "ip",
		"troupe_ratelimit_store": "memory", "troupe_decision": "rejected",
	} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}
	hist := families["troupe_actor_processing_duration_seconds"]
	if hist == nil || len(hist.GetMetric()) != 1 {
		t.Fatalf("scrape lacks troupe_actor_processing_duration_seconds")
	}
	if got := len(hist.GetMetric()[0].GetHistogram().GetBucket()); got != len(DurationBuckets)+1 {
		t.Errorf("processing histogram has %d buckets, want %d", got, len(DurationBuckets)+1)
	}
}

// TestPrometheusRegistriesArePrivate sets up two Prometheus telemetries in
// one process; with the default registerer the second would fail.
func TestPrometheusRegistriesArePrivate(t *testing.T) {
	for range 2 {
		tel, err := Setup(context.Background(), Config{Prometheus: true})
		if err != nil {
			t.Fatal(err)
		}
		shutdown(t, tel)
	}
}

func TestRequestDurationBuckets(t *testing.T) {
	tel, err := Setup(context.Background(), Config{Prometheus: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, tel)
	// An instrument without advice still gets the semconv boundaries.
	h, err := tel.MeterProvider().Meter("test").Float64Histogram("http.server.request.duration")
	if err != nil {
		t.Fatal(err)
	}
	h.Record(context.Background(), 0.3)
	fam := scrape(t, tel.MetricsHandler())["http_server_request_duration"]
	if fam == nil {
		t.Fatal("scrape lacks http_server_request_duration")
	}
	var bounds []float64
	for _, b := range fam.GetMetric()[0].GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	want := append(append([]float64(nil), DurationBuckets...), math.Inf(1))
	if len(bounds) != len(want) {
		t.Fatalf("bucket bounds = %v, want %v", bounds, want)
	}
	for i := range want {
		if bounds[i] != want[i] {
			t.Fatalf("bucket bounds = %v, want %v", bounds, want)
		}
	}
}
