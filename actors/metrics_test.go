package actors

import (
	"context"
	"testing"
	"time"

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
		// The time is recorded after Receive returns, when the caller may
		// already have its reply; an actor's end comes after it.
		_ = s.Stop(ref)
		wait(t, s.Done(ref), "stop")
	}
	kinds := metrictest.HistogramCounts(t, reader, telemetry.MetricActorProcessingDuration, "troupe.actor.kind")
	if kinds["timed"] != 1 || kinds["untimed"] != 0 {
		t.Errorf("processing-time counts by kind = %v; want timed 1, untimed 0", kinds)
	}
}

func newManual(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// TestInstrumentsRecord drives every instrument against the SDK and checks
// the series each one produced: name, attributes and value.
func TestInstrumentsRecord(t *testing.T) {
	mp, reader := newManual(t)
	ctx := context.Background()
	m := newInstruments(mp)
	m.processed(ctx, "orders", time.Millisecond)
	m.restarted(ctx, "orders")
	m.deadLetter(ctx, ReasonStopped)
	m.dropped(ctx, "orders", DropNewest)
	unregister := m.observeDepth(func(yield func(string, int64)) {
		yield("orders", 7)
		yield("billing", 0)
	})
	want := map[string][]metrictest.Point{
		telemetry.MetricActorProcessingDuration: {{Attrs: "troupe.actor.kind=orders", Value: 1}},
		telemetry.MetricActorRestarts:           {{Attrs: "troupe.actor.kind=orders", Value: 1}},
		telemetry.MetricActorDeadLetters:        {{Attrs: "troupe.dead_letter.reason=stopped", Value: 1}},
		telemetry.MetricActorMailboxDropped:     {{Attrs: "troupe.actor.kind=orders,troupe.actor.overflow_policy=drop_newest", Value: 1}},
		telemetry.MetricActorMailboxDepth:       {{Attrs: "troupe.actor.kind=orders", Value: 7}, {Attrs: "troupe.actor.kind=billing", Value: 0}},
	}
	got := metrictest.Collect(t, reader)
	for name, w := range want {
		if !metrictest.SamePoints(got[name], w) {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
	unregister()
	unregister() // safe twice
	if depth := metrictest.Collect(t, reader)[telemetry.MetricActorMailboxDepth]; len(depth) != 0 {
		t.Errorf("mailbox depth after unregister = %v, want no points", depth)
	}
}

// TestRecordingDoesNotAllocate pins the hot path's promise: a warm
// processing-time observation allocates nothing.
func TestRecordingDoesNotAllocate(t *testing.T) {
	mp, _ := newManual(t)
	m := newInstruments(mp)
	record := func() { m.processed(bg, "orders", time.Millisecond) }
	record() // warm the attribute cache and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}

// BenchmarkActorProcessed measures one message-processing observation on the
// SDK: after warm-up it must not allocate.
func BenchmarkActorProcessed(b *testing.B) {
	mp, _ := newManual(b)
	m := newInstruments(mp)
	b.ReportAllocs()
	for b.Loop() {
		m.processed(bg, "orders", 3*time.Millisecond)
	}
}
