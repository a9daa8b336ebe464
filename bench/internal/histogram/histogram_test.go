package histogram

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// within reports whether got is within a relative tolerance of want.
func within(got, want time.Duration, tol float64) bool {
	return math.Abs(float64(got-want)) <= tol*float64(want)
}

func TestHistogramQuantilesOfKnownData(t *testing.T) {
	// 1µs, 2µs, … 10000µs: the nearest-rank q-quantile is q·10000 µs.
	h := New()
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Microsecond},
		{0.001, time.Microsecond * 10},
		{0.25, 2500 * time.Microsecond},
		{0.50, 5000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); !within(got, tt.want, 0.01) {
			t.Errorf("quantile(%v) = %v, want %v ±1%%", tt.q, got, tt.want)
		}
	}
	if got := h.Count(); got != 10000 {
		t.Errorf("count = %d, want 10000", got)
	}
	// The extremes are clamped to what was observed, so they are exact.
	if h.Quantile(0) != time.Microsecond || h.Quantile(1) != 10*time.Millisecond {
		t.Errorf("extremes = %v, %v; want exactly 1µs and 10ms", h.Quantile(0), h.Quantile(1))
	}
}

func TestHistogramSkewedData(t *testing.T) {
	// 990 fast requests and 10 slow ones: p99 is still fast, p99.9 is slow.
	h := New()
	for range 990 {
		h.Record(300 * time.Microsecond)
	}
	for range 10 {
		h.Record(40 * time.Millisecond)
	}
	if got := h.Quantile(0.50); !within(got, 300*time.Microsecond, 0.01) {
		t.Errorf("p50 = %v, want 300µs", got)
	}
	if got := h.Quantile(0.99); !within(got, 300*time.Microsecond, 0.01) {
		t.Errorf("p99 = %v, want 300µs", got)
	}
	if got := h.Quantile(0.999); !within(got, 40*time.Millisecond, 0.01) {
		t.Errorf("p99.9 = %v, want 40ms", got)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	h := New()
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
	h.Record(-time.Second)
	if got := h.Quantile(1); got != 0 {
		t.Errorf("negative duration recorded as %v, want 0", got)
	}
}

func TestHistogramMergeEqualsRecordingAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, all := New(), New(), New()
	for i := range 5000 {
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if a.Count() != all.Count() {
		t.Errorf("merged count = %d, want %d", a.Count(), all.Count())
	}
}

func TestBucketBoundsHoldTheirValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := []uint64{0, 1, exactLimit - 1, exactLimit, exactLimit + 1, 1<<20 - 1, 1 << 20, math.MaxInt64}
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lo, width := bucketBounds(i)
		if v < lo || v-lo >= width {
			t.Fatalf("value %d in bucket %d = [%d, %d+%d)", v, i, lo, lo, width)
		}
		if width > 1 && float64(width)/float64(lo) > 1.0/subCount {
			t.Fatalf("bucket %d = [%d, +%d) is wider than 1/%d of its bound", i, lo, width, subCount)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	h := New()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%5000) * time.Microsecond)
	}
}
