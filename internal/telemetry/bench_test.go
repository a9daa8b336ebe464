package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// BenchmarkActorProcessed measures one message-processing observation on the
// SDK: after warm-up it must not allocate.
func BenchmarkActorProcessed(b *testing.B) {
	mp, _ := newManual(b)
	m := NewActorMetrics(mp)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.Processed(ctx, "orders", 3*time.Millisecond)
	}
}

// TestRecordingDoesNotAllocate pins the benchmarks' promise in a test, so a
// regression fails CI rather than waiting for someone to read figures.
func TestRecordingDoesNotAllocate(t *testing.T) {
	mp, _ := newManual(t)
	actors := NewActorMetrics(mp)
	counter, _ := Meter(mp).Int64Counter("test.counter")
	routes := NewAttrCache(func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} })
	ctx := context.Background()
	record := func() {
		actors.Processed(ctx, "orders", time.Millisecond)
		counter.Add(ctx, 1, routes.Get("/r").Add...)
	}
	record() // warm the attribute caches and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}
