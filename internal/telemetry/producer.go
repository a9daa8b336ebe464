package telemetry

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// histogramProducer keeps the Histograms made from its meters and hands
// their points to the readers it is registered with (Prometheus, OTLP) as a
// metric.Producer, beside the SDK's own instruments. It applies what the
// SDK would: the meter provider's views of bucket boundaries, its exemplar
// filter and its cardinality limit.
type histogramProducer struct {
	views  map[string][]float64 // instrument name → boundaries
	filter exemplar.Filter
	limit  int // series per instrument, the overflow series included

	mu      sync.Mutex
	scopes  []*producedScope
	streams map[streamKey]any // *histogramStream[int64] or [float64]
}

type streamKey struct {
	scope instrumentation.Scope
	name  string
}

// producedScope is one instrumentation scope's streams, in their order of
// creation.
type producedScope struct {
	scope   instrumentation.Scope
	collect []func(time.Time) (metricdata.Metrics, bool)
}

func newHistogramProducer(views map[string][]float64, filter exemplar.Filter, limit int) *histogramProducer {
	return &histogramProducer{views: views, filter: filter, limit: limit, streams: make(map[streamKey]any)}
}

// Produce returns every stream that holds a measurement, grouped by scope.
func (p *histogramProducer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	p.mu.Lock()
	scopes := slices.Clone(p.scopes)
	p.mu.Unlock()
	now := time.Now()
	var out []metricdata.ScopeMetrics
	for _, s := range scopes {
		sm := metricdata.ScopeMetrics{Scope: s.scope}
		p.mu.Lock()
		collect := slices.Clone(s.collect)
		p.mu.Unlock()
		for _, c := range collect {
			if m, ok := c(now); ok {
				sm.Metrics = append(sm.Metrics, m)
			}
		}
		if len(sm.Metrics) > 0 {
			out = append(out, sm)
		}
	}
	return out, nil
}

// stream returns the stream of spec's instrument in scope, making it on
// first use: like the SDK, two Histograms of one name in one scope record
// into the same series.
func stream[N Number](p *histogramProducer, scope instrumentation.Scope, spec HistogramSpec) (*histogramStream[N], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := streamKey{scope, spec.Name}
	if s, ok := p.streams[key]; ok {
		if s, ok := s.(*histogramStream[N]); ok {
			return s, nil
		}
		return nil, fmt.Errorf("telemetry: histogram %q already exists with another value type", spec.Name)
	}
	bounds, ok := p.views[spec.Name]
	if !ok {
		bounds = spec.Boundaries
	}
	if bounds == nil {
		bounds = defaultBoundaries
	}
	s := &histogramStream[N]{
		spec: spec, bounds: slices.Sorted(slices.Values(bounds)), filter: p.filter, limit: p.limit,
		start: time.Now(), points: make(map[attribute.Distinct]*histogramPoint[N]),
	}
	p.streams[key] = s
	i := slices.IndexFunc(p.scopes, func(ps *producedScope) bool { return ps.scope == scope })
	if i < 0 {
		i = len(p.scopes)
		p.scopes = append(p.scopes, &producedScope{scope: scope})
	}
	p.scopes[i].collect = append(p.scopes[i].collect, s.collect)
	return s, nil
}

// defaultBoundaries are the SDK's default explicit bucket boundaries
// (sdkmetric.DefaultAggregationSelector).
var defaultBoundaries = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

// histogramStream is one instrument's series.
type histogramStream[N Number] struct {
	spec   HistogramSpec
	bounds []float64
	filter exemplar.Filter
	limit  int
	start  time.Time

	mu       sync.Mutex
	points   map[attribute.Distinct]*histogramPoint[N]
	order    []*histogramPoint[N]
	overflow *histogramPoint[N]
}

// point returns the point of attrs, making it on first use; past the
// cardinality limit, the overflow point, as the SDK does.
func (s *histogramStream[N]) point(attrs attribute.Set) *histogramPoint[N] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.points[attrs.Equivalent()]; ok {
		return p
	}
	if s.limit > 0 && len(s.points) >= s.limit-1 {
		if s.overflow == nil {
			s.overflow = newHistogramPoint[N](attribute.NewSet(KeyOverflow.Bool(true)), s.bounds)
		}
		return s.overflow
	}
	p := newHistogramPoint[N](attrs, s.bounds)
	s.points[attrs.Equivalent()] = p
	s.order = append(s.order, p)
	return p
}

func (s *histogramStream[N]) collect(now time.Time) (metricdata.Metrics, bool) {
	s.mu.Lock()
	points := slices.Clone(s.order)
	if s.overflow != nil {
		points = append(points, s.overflow)
	}
	s.mu.Unlock()
	h := metricdata.Histogram[N]{Temporality: metricdata.CumulativeTemporality}
	for _, p := range points {
		dp := metricdata.HistogramDataPoint[N]{StartTime: s.start, Time: now}
		if p.collect(&dp) {
			h.DataPoints = append(h.DataPoints, dp)
		}
	}
	m := metricdata.Metrics{Name: s.spec.Name, Description: s.spec.Description, Unit: s.spec.Unit, Data: h}
	return m, len(h.DataPoints) > 0
}

// meterProvider is the SDK's meter provider whose meters also make
// Troupe's Histograms, recorded by its producer.
type meterProvider struct {
	*sdkmetric.MeterProvider
	histograms *histogramProducer
}

// Meter returns the SDK's meter for the scope, which NewHistogram
// recognises.
func (mp meterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	c := metric.NewMeterConfig(opts...)
	return histogramMeter{
		Meter:      mp.MeterProvider.Meter(name, opts...),
		histograms: mp.histograms,
		scope: instrumentation.Scope{
			Name: name, Version: c.InstrumentationVersion(), SchemaURL: c.SchemaURL(),
			Attributes: c.InstrumentationAttributes(),
		},
	}
}

// histogramMeter is an SDK meter that knows its provider's producer and its
// scope.
type histogramMeter struct {
	metric.Meter
	histograms *histogramProducer
	scope      instrumentation.Scope
}

// sdkOptions resolves what the SDK would read from the environment, the
// exemplar filter and the cardinality limit, once, so that the SDK's
// instruments and the producer's histograms follow the same settings.
func sdkOptions() (exemplar.Filter, int) {
	filter := exemplar.TraceBasedFilter
	switch strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_METRICS_EXEMPLAR_FILTER"))) {
	case "always_on":
		filter = exemplar.AlwaysOnFilter
	case "always_off":
		filter = exemplar.AlwaysOffFilter
	}
	limit := 2000 // the SDK's default
	if v := strings.TrimSpace(os.Getenv("OTEL_GO_X_CARDINALITY_LIMIT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			otel.Handle(err)
		} else {
			limit = n
		}
	}
	return filter, limit
}
