package wasm

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/telemetry"
)

// TestMonitoringSection checks what [monitoring] enable_metrics and
// enable_tracing switch: the per-message processing-time histogram and a
// span per message.
func TestMonitoringSection(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	sys := actors.NewSystem(actors.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	rt := rtRuntime(t, RuntimeOptions{
		System:         sys,
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
	})
	dir := t.TempDir()
	for _, c := range []struct{ name, monitoring string }{
		{"watched", "\n[monitoring]\nenable_metrics = true\nenable_tracing = true"},
		{"quiet", ""},
	} {
		comp, err := rt.Load(context.Background(), rtComponent(t, dir, c.name, rtEcho(t, "v1"), c.monitoring))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := rt.Spawn(context.Background(), comp)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := sys.Request(context.Background(), ref, []byte("hello")); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The reply leaves inside Receive; the processing time and the span are
	// recorded just after it, so the last message's may still be on its way.
	var timed map[string]uint64
	names := map[string]int{}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		timed = metrictest.HistogramCounts(t, reader, telemetry.MetricActorProcessingDuration, "troupe.actor.kind")
		clear(names)
		for _, s := range spans.Ended() {
			names[s.Name()]++
		}
		if timed["wasm:watched"] >= 3 && names["wasm watched"] >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if timed["wasm:watched"] < 3 || timed["wasm:quiet"] != 0 {
		t.Errorf("processing-time counts = %v; want wasm:watched >= 3 and no wasm:quiet", timed)
	}
	if names["wasm watched"] != 3 || names["wasm quiet"] != 0 {
		t.Errorf("spans = %v; want 3 of \"wasm watched\" and none of \"wasm quiet\"", names)
	}
}
