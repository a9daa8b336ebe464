package telemetry

import (
	"context"
	"testing"
	"time"
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

// BenchmarkRateLimitDecision measures one rate-limit decision count.
func BenchmarkRateLimitDecision(b *testing.B) {
	mp, _ := newManual(b)
	m := NewRateLimitMetrics(mp)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m.Decision(ctx, "/api/v1/orders/:id", "user", "redis", true)
	}
}

// TestRecordingDoesNotAllocate pins the benchmarks' promise in a test, so a
// regression fails CI rather than waiting for someone to read figures.
func TestRecordingDoesNotAllocate(t *testing.T) {
	mp, _ := newManual(t)
	actors, limits := NewActorMetrics(mp), NewRateLimitMetrics(mp)
	ctx := context.Background()
	record := func() {
		actors.Processed(ctx, "orders", time.Millisecond)
		limits.Decision(ctx, "/r", "ip", "memory", false)
	}
	record() // warm the attribute caches and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}
