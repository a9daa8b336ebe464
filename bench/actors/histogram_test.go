package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketIsMonotonicAndTight(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 123456789, math.MaxInt64}
	prev := -1
	for _, v := range values {
		b := bucket(v)
		if b < prev {
			t.Errorf("bucket(%d) = %d, below the previous value's bucket %d", v, b, prev)
		}
		prev = b
		hi := upper(b)
		if hi < v {
			t.Errorf("upper(bucket(%d)) = %d, below the value", v, hi)
		}
		if v >= subCount && float64(hi-v) > float64(v)/subCount {
			t.Errorf("upper(bucket(%d)) = %d, more than 1/%d above the value", v, hi, subCount)
		}
		if v < subCount && hi != v {
			t.Errorf("small value %d not exact: upper = %d", v, hi)
		}
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Error("empty histogram has a non-zero median")
	}
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	h.record(-time.Second) // clamps to zero, must not panic
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if got < tt.want || float64(got-tt.want) > float64(tt.want)/subCount {
			t.Errorf("quantile(%v) = %v, want %v within 1/%d above", tt.q, got, tt.want, subCount)
		}
	}
	if got := h.quantile(0); got != 0 {
		t.Errorf("quantile(0) = %v, want the clamped zero", got)
	}
}
