package main

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits linear sub-buckets per
// power of two, so a recorded value is reported within 1/64 (1.6%) of itself
// while the whole int64 range fits in a few thousand counters.
const subBits = 6

const subCount = 1 << subBits

// histogram is a log-linear latency histogram in the spirit of HdrHistogram:
// exact below 64 ns, then 64 buckets per octave. Recording is a few
// instructions and never allocates, so it does not perturb the loop it
// measures. The zero value is ready to use.
type histogram struct {
	counts [(64 - subBits + 1) * subCount]uint64
	total  uint64
}

// record adds one duration; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))]++
	h.total++
}

// quantile returns the smallest bucket bound at or below which a fraction
// q of the recorded values lie, or 0 for an empty histogram.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(upper(i))
		}
	}
	return time.Duration(upper(len(h.counts) - 1))
}

// bucket maps v to its counter: values below subCount map to themselves,
// larger ones keep their top subBits+1 significant bits.
func bucket(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)<<subBits + int(v>>shift) - subCount
}

// upper is the largest value that maps to bucket i, so quantiles err on the
// pessimistic side.
func upper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i>>subBits - 1
	mantissa := uint64(i&(subCount-1) + subCount)
	return (mantissa+1)<<shift - 1
}
