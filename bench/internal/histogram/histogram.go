// Package histogram is the latency histogram of Troupe's load harness and
// side-by-side benchmarks: one implementation, so every figure in
// docs/benchmarks.md is computed the same way.
package histogram

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear in the manner of HdrHistogram: values below
// 2^(subBits+1) ns get a bucket each, and every power of two above is split
// into 2^subBits equal buckets. A bucket's width is then at most 1/2^subBits
// of its lower bound, so with subBits = 7 a reported percentile is within
// 0.8% of the true one (0.4% from the bucket's midpoint), in a fixed 58 KiB
// whatever the range: cheap enough to give every load worker its own and
// merge afterwards, so recording needs no lock.
const (
	subBits    = 7
	subCount   = 1 << subBits // buckets per power of two
	exactLimit = 2 * subCount // values below this get one bucket each
	numBuckets = exactLimit + (64-subBits-1)*subCount
)

// Histogram records durations (as nanoseconds) with ~1% relative precision.
// The zero value is not usable; build it with New. Recording never
// allocates, so it does not perturb the loop it measures.
type Histogram struct {
	counts   []uint64
	total    uint64
	min, max int64
}

// New returns an empty histogram.
func New() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))]++
	h.total++
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.total }

// Quantile returns the value at or below which a fraction q (0..1) of the
// observations lie, by nearest rank, as the midpoint of the bucket holding
// that rank clamped to the observed range; the first and last ranks are the
// exact minimum and maximum. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(min(max(q, 0), 1) * float64(h.total)))
	switch {
	case rank <= 1:
		return time.Duration(h.min)
	case rank >= h.total:
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, width := bucketBounds(i)
			mid := int64(lo + (width-1)/2)
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max) // unreachable: counts sum to total
}

// bucketOf returns the index of the bucket holding v.
func bucketOf(v uint64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // ≥ 1 since v ≥ 2^(subBits+1)
	sub := int(v>>shift) & (subCount - 1)
	return exactLimit + (shift-1)*subCount + sub
}

// bucketBounds returns the lowest value of bucket i and how many values it
// spans.
func bucketBounds(i int) (lo, width uint64) {
	if i < exactLimit {
		return uint64(i), 1
	}
	j := i - exactLimit
	shift := j/subCount + 1
	sub := uint64(j % subCount)
	return (subCount + sub) << shift, 1 << shift
}
