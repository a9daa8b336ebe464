package telemetry

import (
	"context"
	"math"
	"sort"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

// Number is a histogram's value type, as in the OpenTelemetry API.
type Number interface{ int64 | float64 }

// histogramPoint is the cumulative explicit-bucket histogram of one label
// set: what the SDK's cumulative histogram keeps per attribute set, in
// atomics that a recording updates without a lock.
//
// A recording updates the exemplar, the sum, the minimum and the maximum
// before it counts the measurement in its bucket, so a collection that sees
// a count has seen that measurement's extremes. The SDK swaps a hot and a
// cold copy to read a point that no recording straddles; here a scrape
// taken during a recording may include its sum and not yet its count, an
// error of one in-flight measurement that the next scrape corrects.
type histogramPoint[N Number] struct {
	attrs    attribute.Set
	bounds   []float64 // sorted; shared by the stream's points
	counts   []atomic.Uint64
	sum      atomic.Uint64 // N's bits: math.Float64bits, or two's complement
	min, max atomic.Uint64 // N's bits, from N's top and bottom
	// exemplars hold each bucket's last measurement that the exemplar
	// filter passed, as the SDK's reservoir holds at most one per bucket.
	exemplars []atomic.Pointer[histogramExemplar[N]]
}

// histogramExemplar is one measurement kept with the span it was made in.
type histogramExemplar[N Number] struct {
	value N
	time  time.Time
	span  trace.SpanContext
}

func newHistogramPoint[N Number](attrs attribute.Set, bounds []float64) *histogramPoint[N] {
	p := &histogramPoint[N]{
		attrs:     attrs,
		bounds:    bounds,
		counts:    make([]atomic.Uint64, len(bounds)+1),
		exemplars: make([]atomic.Pointer[histogramExemplar[N]], len(bounds)+1),
	}
	p.sum.Store(bitsOf(N(0)))
	top, bottom := extremes[N]()
	p.min.Store(bitsOf(top))
	p.max.Store(bitsOf(bottom))
	return p
}

// record adds v; exemplar says whether the stream's exemplar filter passed
// ctx. The bucket is the SDK's: the first boundary not below v, so each
// bucket includes its upper boundary.
func (p *histogramPoint[N]) record(ctx context.Context, v N, exemplar bool) {
	i := sort.SearchFloat64s(p.bounds, float64(v))
	if exemplar {
		p.exemplars[i].Store(&histogramExemplar[N]{value: v, time: time.Now(), span: trace.SpanContextFromContext(ctx)})
	}
	p.add(v)
	for old := p.min.Load(); v < valueOf[N](old) && !p.min.CompareAndSwap(old, bitsOf(v)); {
		old = p.min.Load()
	}
	for old := p.max.Load(); v > valueOf[N](old) && !p.max.CompareAndSwap(old, bitsOf(v)); {
		old = p.max.Load()
	}
	p.counts[i].Add(1)
}

// add adds v to the sum: an integer with one atomic add, which never
// retries, a float with a compare-and-swap loop, which retries while other
// cores add. In the full service's in-process twin (32 goroutines on one
// route's cells), the CAS loop of the two byte-size sums took 0.8% of the
// CPU, ~0.09 µs a request.
func (p *histogramPoint[N]) add(v N) {
	if i, ok := any(v).(int64); ok {
		p.sum.Add(uint64(i))
		return
	}
	for {
		old := p.sum.Load()
		if p.sum.CompareAndSwap(old, bitsOf(valueOf[N](old)+v)) {
			return
		}
	}
}

// collect writes the point into dp, reusing dp's slices, and reports
// whether it holds any measurement: a label set whose cell was taken but
// never recorded is not a series, as in the SDK.
func (p *histogramPoint[N]) collect(dp *metricdata.HistogramDataPoint[N]) bool {
	counts := dp.BucketCounts[:0]
	var total uint64
	for i := range p.counts {
		n := p.counts[i].Load()
		counts = append(counts, n)
		total += n
	}
	if total == 0 {
		return false
	}
	dp.Attributes = p.attrs
	dp.Count = total
	dp.Bounds = append(dp.Bounds[:0], p.bounds...)
	dp.BucketCounts = counts
	dp.Sum = valueOf[N](p.sum.Load())
	dp.Min = metricdata.NewExtrema(valueOf[N](p.min.Load()))
	dp.Max = metricdata.NewExtrema(valueOf[N](p.max.Load()))
	dp.Exemplars = dp.Exemplars[:0]
	for i := range p.exemplars {
		if e := p.exemplars[i].Load(); e != nil {
			dp.Exemplars = append(dp.Exemplars, e.data())
		}
	}
	return true
}

// data is e as the SDK exports an exemplar: trace and span IDs only when
// the context had them.
func (e *histogramExemplar[N]) data() metricdata.Exemplar[N] {
	x := metricdata.Exemplar[N]{Time: e.time, Value: e.value}
	if e.span.HasTraceID() {
		id := e.span.TraceID()
		x.TraceID = id[:]
	}
	if e.span.HasSpanID() {
		id := e.span.SpanID()
		x.SpanID = id[:]
	}
	return x
}

// bitsOf and valueOf store an N in an atomic.Uint64.
func bitsOf[N Number](v N) uint64 {
	switch v := any(v).(type) {
	case float64:
		return math.Float64bits(v)
	case int64:
		return uint64(v)
	}
	panic("unreachable")
}

func valueOf[N Number](b uint64) N {
	var zero N
	switch any(zero).(type) {
	case float64:
		return N(math.Float64frombits(b))
	}
	return N(int64(b))
}

// extremes are the greatest and least N, a point's minimum and maximum
// before its first measurement: any measurement replaces them, or equals
// them.
func extremes[N Number]() (top, bottom N) {
	var zero N
	switch any(zero).(type) {
	case float64:
		return valueOf[N](math.Float64bits(math.Inf(1))), valueOf[N](math.Float64bits(math.Inf(-1)))
	}
	return valueOf[N](math.MaxInt64), valueOf[N](1 << 63)
}
