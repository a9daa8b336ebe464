package wasm

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/telemetry"
)

// TestInstrumentsRecord drives every instrument against the SDK and checks
// the series each one produced: name, attributes and value.
func TestInstrumentsRecord(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ctx := context.Background()
	m := newInstruments(mp)
	m.denied(ctx, "fetcher", "network")
	m.denied(ctx, "fetcher", "network")
	m.instanceFailed(ctx, "echo", "timeout")
	m.reloaded(ctx, "echo", true)
	m.reloaded(ctx, "echo", false)
	want := map[string][]metrictest.Point{
		telemetry.MetricComponentDenials:          {{Attrs: "troupe.capability.kind=network,troupe.component=fetcher", Value: 2}},
		telemetry.MetricComponentInstanceFailures: {{Attrs: "troupe.component=echo,troupe.component.reason=timeout", Value: 1}},
		telemetry.MetricComponentReloads: {
			{Attrs: "troupe.component=echo,troupe.component.result=ok", Value: 1},
			{Attrs: "troupe.component=echo,troupe.component.result=failed", Value: 1},
		},
	}
	got := metrictest.Collect(t, reader)
	for name, w := range want {
		if !metrictest.SamePoints(got[name], w) {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
}

// TestInstrumentsNilSafe calls every method on the nil instruments of a
// runtime without a meter provider; none may panic.
func TestInstrumentsNilSafe(t *testing.T) {
	var m *instruments
	ctx := context.Background()
	m.denied(ctx, "c", "kv")
	m.instanceFailed(ctx, "c", "trap")
	m.reloaded(ctx, "c", true)
}
