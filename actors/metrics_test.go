package actors

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

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
