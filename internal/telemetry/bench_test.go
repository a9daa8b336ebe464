package telemetry

import (
	"context"
	"testing"
)

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
	limits := NewRateLimitMetrics(mp)
	ctx := context.Background()
	record := func() {
		limits.Decision(ctx, "/r", "ip", "memory", false)
	}
	record() // warm the attribute caches and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}
