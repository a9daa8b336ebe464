package telemetry

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
)

// Histogram is an explicit-bucket histogram that the request path records
// into without the SDK's attribute handling. Under load, every synchronous
// Record cost the SDK a reflective walk of the attribute set
// (attrnorm.SetDedup), an attribute filter and a lookup of the series,
// ~0.35 µs a call and three to five calls a request (issue 19, item 2).
// Here a caller keeps its label set's HistogramCell, and a Record is a
// bucket search and a few atomic operations on it.
//
// On a meter of the provider Setup builds, the cells are Troupe's own and
// the provider's readers collect them through a metric.Producer, with the
// same name, unit, description, bucket boundaries (views included),
// attributes, scope, exemplars (the provider's filter, one per bucket) and
// cardinality limit as the SDK's instrument would have. On any other meter
// (a caller's own provider, a noop) the cells record into the SDK's
// instrument, as before.
type Histogram[K comparable, N Number] struct {
	build  func(K) []attribute.KeyValue
	stream *histogramStream[N] // nil: through sdk
	sdk    recorder[N]         // nil when the meter returned none
	filter exemplar.Filter     // stream's
	mu     sync.RWMutex
	cells  map[K]*HistogramCell[N]
}

// HistogramSpec names, describes and buckets a Histogram's instrument.
type HistogramSpec struct {
	Name        string
	Description string
	Unit        string
	// Boundaries are the explicit bucket boundaries, the instrument's
	// advice: a view of the meter provider overrides them. Nil takes the
	// SDK's default.
	Boundaries []float64
}

// HistogramCell is the histogram of one label set. A nil cell (metrics off)
// records nothing.
type HistogramCell[N Number] struct {
	point  *histogramPoint[N]
	filter exemplar.Filter
	sdk    recorder[N]
	opts   []metric.RecordOption
}

// recorder is the SDK's Int64Histogram or Float64Histogram.
type recorder[N Number] interface {
	Record(context.Context, N, ...metric.RecordOption)
}

// NewHistogram makes spec's histogram on meter; build gives the attributes
// of a label tuple on its first use. Like the SDK's instrument
// constructors, it reports an invalid instrument with an error and still
// returns a working Histogram.
func NewHistogram[K comparable, N Number](meter metric.Meter, spec HistogramSpec, build func(K) []attribute.KeyValue) (*Histogram[K, N], error) {
	h := &Histogram[K, N]{build: build, cells: make(map[K]*HistogramCell[N])}
	if m, ok := meter.(histogramMeter); ok {
		s, err := stream[N](m.histograms, m.scope, spec)
		if err == nil {
			h.stream, h.filter = s, s.filter
			return h, nil
		}
		return h, err
	}
	var err error
	switch any(h).(type) {
	case *Histogram[K, float64]:
		var inst metric.Float64Histogram
		inst, err = meter.Float64Histogram(spec.Name, histogramOptions[metric.Float64HistogramOption](spec)...)
		if inst != nil {
			h.sdk = any(inst).(recorder[N])
		}
	case *Histogram[K, int64]:
		var inst metric.Int64Histogram
		inst, err = meter.Int64Histogram(spec.Name, histogramOptions[metric.Int64HistogramOption](spec)...)
		if inst != nil {
			h.sdk = any(inst).(recorder[N])
		}
	}
	if h.sdk == nil && err == nil {
		err = errors.New("telemetry: the meter returned no histogram " + spec.Name)
	}
	return h, err
}

// histogramOptions are spec as the SDK's options of an Int64Histogram or a
// Float64Histogram.
func histogramOptions[O any](spec HistogramSpec) []O {
	opts := []O{any(metric.WithDescription(spec.Description)).(O), any(metric.WithUnit(spec.Unit)).(O)}
	if spec.Boundaries != nil {
		opts = append(opts, any(metric.WithExplicitBucketBoundaries(spec.Boundaries...)).(O))
	}
	return opts
}

// Record records v for k; on a nil Histogram it does nothing.
func (h *Histogram[K, N]) Record(ctx context.Context, k K, v N) { h.Cell(k).Record(ctx, v) }

// Cell returns k's cell, making it on first use. A nil Histogram, or one
// whose instrument could not be made, returns a nil cell.
func (h *Histogram[K, N]) Cell(k K) *HistogramCell[N] {
	if h == nil || (h.stream == nil && h.sdk == nil) {
		return nil
	}
	h.mu.RLock()
	cell, ok := h.cells[k]
	h.mu.RUnlock()
	if ok {
		return cell
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cell, ok := h.cells[k]; ok {
		return cell
	}
	set := attribute.NewSet(h.build(k)...)
	if h.stream != nil {
		cell = &HistogramCell[N]{point: h.stream.point(set), filter: h.filter}
	} else {
		cell = &HistogramCell[N]{sdk: h.sdk, opts: []metric.RecordOption{metric.WithAttributeSet(set)}}
	}
	// Past maxCachedSets tuples a caller is passing raw input by mistake:
	// the cell still records (into the stream's overflow series once its
	// limit is reached), it is just not kept.
	if len(h.cells) < maxCachedSets {
		h.cells[k] = cell
	}
	return cell
}

// Record adds v to the cell's histogram. ctx carries the span an exemplar
// links to.
func (c *HistogramCell[N]) Record(ctx context.Context, v N) {
	switch {
	case c == nil:
	case c.point != nil:
		c.point.record(ctx, v, c.filter(ctx))
	default:
		c.sdk.Record(ctx, v, c.opts...)
	}
}
