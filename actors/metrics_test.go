package actors

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/telemetry"
)

func TestMetricsAreRecorded(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	s := newTestSystem(t, WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	ref, err := s.Spawn("echo", echoer, WithKind("echo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request(context.Background(), ref, "hi"); err != nil {
		t.Fatal(err)
	}
	_ = s.Stop(ref)
	wait(t, s.Done(ref), "stop")
	_ = s.Send(ref, "dead") // a dead letter
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			seen[m.Name] = true
		}
	}
	for _, name := range []string{telemetry.MetricActorProcessingDuration, telemetry.MetricActorDeadLetters} {
		if !seen[name] {
			t.Errorf("metric %s not recorded (got %v)", name, seen)
		}
	}
}

// TestWithoutProcessingMetrics keeps one actor out of the processing-time
// histogram while another is recorded.
func TestWithoutProcessingMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	s := newTestSystem(t, WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	timed, err := s.Spawn("timed", echoer, WithKind("timed"))
	if err != nil {
		t.Fatal(err)
	}
	untimed, err := s.Spawn("untimed", echoer, WithKind("untimed"), WithoutProcessingMetrics())
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []Ref{timed, untimed} {
		if _, err := s.Request(context.Background(), ref, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	kinds := metrictest.HistogramCounts(t, reader, telemetry.MetricActorProcessingDuration, "troupe.actor.kind")
	if kinds["timed"] != 1 || kinds["untimed"] != 0 {
		t.Errorf("processing-time counts by kind = %v; want timed 1, untimed 0", kinds)
	}
}
