package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// BenchmarkCachedAttributes measures one counter add with attributes from an
// AttrCache, the way every subsystem's instruments record: after warm-up it
// must not allocate.
func BenchmarkCachedAttributes(b *testing.B) {
	mp, _ := newManual(b)
	counter, _ := Meter(mp).Int64Counter("test.counter")
	routes := NewAttrCache(func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		counter.Add(ctx, 1, routes.Get("/api/v1/orders/:id").Add...)
	}
}

// TestRecordingDoesNotAllocate pins the benchmark's promise in a test, so a
// regression fails CI rather than waiting for someone to read figures.
func TestRecordingDoesNotAllocate(t *testing.T) {
	mp, _ := newManual(t)
	counter, _ := Meter(mp).Int64Counter("test.counter")
	routes := NewAttrCache(func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} })
	ctx := context.Background()
	record := func() { counter.Add(ctx, 1, routes.Get("/r").Add...) }
	record() // warm the attribute caches and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}
