package telemetry

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/otlptest"
)

// histogramPair is the same instruments made twice: on the SDK (a plain
// meter provider: NewHistogram records into the SDK's instruments) and on
// the provider Setup builds (Troupe's cells, read through the producer).
type histogramPair struct {
	sdk, own       metric.Meter
	sdkRd, ownRead *sdkmetric.ManualReader
}

func newHistogramPair(t testing.TB, limit int) histogramPair {
	t.Helper()
	opts := func(r sdkmetric.Reader) []sdkmetric.Option {
		return []sdkmetric.Option{
			sdkmetric.WithReader(r), sdkmetric.WithView(durationView),
			sdkmetric.WithExemplarFilter(exemplar.TraceBasedFilter), sdkmetric.WithCardinalityLimit(limit),
		}
	}
	scope := []metric.MeterOption{metric.WithInstrumentationVersion("1.2.3"), metric.WithSchemaURL("https://example.com/schema")}
	sdkRd := sdkmetric.NewManualReader()
	producer := newHistogramProducer(histogramViews, exemplar.TraceBasedFilter, limit)
	ownRead := sdkmetric.NewManualReader(sdkmetric.WithProducer(producer))
	sdkMP := sdkmetric.NewMeterProvider(opts(sdkRd)...)
	ownMP := meterProvider{MeterProvider: sdkmetric.NewMeterProvider(opts(ownRead)...), histograms: producer}
	t.Cleanup(func() {
		_ = sdkMP.Shutdown(context.Background())
		_ = ownMP.Shutdown(context.Background())
	})
	return histogramPair{
		sdk: sdkMP.Meter("scope", scope...), own: ownMP.Meter("scope", scope...),
		sdkRd: sdkRd, ownRead: ownRead,
	}
}

// collect returns both readers' metrics, with the SDK's in the same scope
// order as Troupe's (the SDK's own instruments come first in a reader's
// output, the producer's after).
func (p histogramPair) collect(t *testing.T) (want, got metricdata.ScopeMetrics) {
	t.Helper()
	var a, b metricdata.ResourceMetrics
	if err := p.sdkRd.Collect(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	if err := p.ownRead.Collect(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if len(a.ScopeMetrics) != 1 || len(b.ScopeMetrics) != 1 {
		t.Fatalf("SDK produced %d scopes, Troupe %d; want 1 each", len(a.ScopeMetrics), len(b.ScopeMetrics))
	}
	return a.ScopeMetrics[0], b.ScopeMetrics[0]
}

func routeAttrs(route string) []attribute.KeyValue {
	return []attribute.KeyValue{KeyRoute.String(route), attribute.String("b", "x")}
}

// sampled returns a context holding a sampled span context with trace id
// n, so the trace-based exemplar filter passes it.
func sampled(n byte) context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{n}, SpanID: trace.SpanID{n}, TraceFlags: trace.FlagsSampled,
	}))
}

// TestHistogramMatchesSDK records the same measurements into the SDK's
// histograms and Troupe's, and compares what a reader collects — what the
// Prometheus and OTLP exporters both translate: scope, names, units,
// descriptions, bucket boundaries (the duration view overriding the
// advice, the SDK's default without advice), counts per bucket (values on
// a boundary included), sums, minima, maxima, attributes, and exemplars
// (one per bucket, only from sampled spans, with their trace and span IDs).
func TestHistogramMatchesSDK(t *testing.T) {
	p := newHistogramPair(t, 2000)
	unsampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9},
	}))
	for _, m := range []metric.Meter{p.sdk, p.own} {
		// The advice differs from the view: the view wins, in both.
		d, err := NewHistogram[string, float64](m, HistogramSpec{Name: "http.server.request.duration",
			Description: "Duration.", Unit: "s", Boundaries: []float64{1, 2}}, routeAttrs)
		if err != nil {
			t.Fatal(err)
		}
		// A second Histogram of the same name records into the same series.
		d2, _ := NewHistogram[string, float64](m, HistogramSpec{Name: "http.server.request.duration",
			Description: "Duration.", Unit: "s", Boundaries: []float64{1, 2}}, routeAttrs)
		size, _ := NewHistogram[string, int64](m, HistogramSpec{Name: "body.size", Description: "Size.", Unit: "By"}, routeAttrs)
		ctx := context.Background()
		for _, v := range []float64{0, 0.005, 0.0051, 0.2, 0.25, 3, 42} {
			d.Record(ctx, "/a", v)
		}
		d2.Record(sampled(1), "/a", 0.3)
		d2.Record(unsampled, "/a", 0.003)
		d.Record(sampled(2), "/b", 11)
		d.Record(ctx, "/b", -1)
		for _, v := range []int64{0, 5, 6, 10000, 10001, 27} {
			size.Record(ctx, "/a", v)
		}
		size.Record(sampled(3), "/a", 27)
		size.Cell("/never") // a cell never recorded is no series
	}
	want, got := p.collect(t)
	if want.Scope != got.Scope {
		t.Errorf("scope = %+v, want %+v", got.Scope, want.Scope)
	}
	if len(want.Metrics) != 2 || len(got.Metrics) != 2 {
		t.Fatalf("SDK made %d metrics, Troupe %d; want 2", len(want.Metrics), len(got.Metrics))
	}
	for i := range want.Metrics {
		roundSums(want.Metrics[i].Data)
		roundSums(got.Metrics[i].Data)
		metricdatatest.AssertEqual(t, want.Metrics[i], got.Metrics[i], metricdatatest.IgnoreTimestamp())
	}
}

// roundSums rounds float sums to 1e-9: the SDK adds the whole and the
// fractional parts of measurements apart, so the last bit of a sum depends
// on the order of additions.
func roundSums(data metricdata.Aggregation) {
	if h, ok := data.(metricdata.Histogram[float64]); ok {
		for i := range h.DataPoints {
			h.DataPoints[i].Sum = math.Round(h.DataPoints[i].Sum*1e9) / 1e9
		}
	}
}

// TestHistogramOverflow checks the cardinality limit: past it, new label
// sets share the otel.metric.overflow series, as in the SDK.
func TestHistogramOverflow(t *testing.T) {
	p := newHistogramPair(t, 3)
	for _, m := range []metric.Meter{p.sdk, p.own} {
		h, _ := NewHistogram[string, int64](m, HistogramSpec{Name: "n", Unit: "1", Boundaries: []float64{10}}, routeAttrs)
		for i := range 6 {
			h.Record(context.Background(), fmt.Sprint("/r", i), int64(i))
		}
	}
	want, got := p.collect(t)
	if n := len(got.Metrics[0].Data.(metricdata.Histogram[int64]).DataPoints); n != 3 {
		t.Errorf("%d series at a limit of 3, want 3", n)
	}
	metricdatatest.AssertEqual(t, want.Metrics[0], got.Metrics[0], metricdatatest.IgnoreTimestamp())
}

// TestHistogramConcurrent records from many goroutines while collecting:
// run with -race, and every measurement is counted once.
func TestHistogramConcurrent(t *testing.T) {
	p := newHistogramPair(t, 2000)
	h, _ := NewHistogram[string, float64](p.own, HistogramSpec{Name: "c", Unit: "s", Boundaries: []float64{0.5}}, routeAttrs)
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				h.Record(sampled(byte(g)), fmt.Sprint("/r", i%3), 0.25+float64(i%2)) // 0.25 or 1.25
			}
		})
	}
	var rm metricdata.ResourceMetrics
	for range 20 {
		if err := p.ownRead.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := p.ownRead.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var count uint64
	var sum float64
	for _, dp := range rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64]).DataPoints {
		count += dp.Count
		sum += dp.Sum
		if lo, _ := dp.Min.Value(); lo != 0.25 {
			t.Errorf("min = %v, want 0.25", lo)
		}
		if hi, _ := dp.Max.Value(); hi != 1.25 {
			t.Errorf("max = %v, want 1.25", hi)
		}
		if len(dp.Exemplars) != 2 {
			t.Errorf("%d exemplars, want one in each of the 2 buckets measured", len(dp.Exemplars))
		}
	}
	if count != goroutines*each || math.Abs(sum-goroutines*each*0.75) > 1e-6 {
		t.Errorf("count %d, sum %v; want %d and %v", count, sum, goroutines*each, goroutines*each*0.75)
	}
}

// TestSetupPushesHistograms checks the OTLP path: Setup's periodic reader
// pushes the producer's histograms with their boundaries, counts, sum and
// an exemplar naming the sampled trace.
func TestSetupPushesHistograms(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	tel, err := Setup(context.Background(), Config{
		ServiceName: "orders",
		Metrics:     MetricsConfig{Exporter: ExporterOTLP, Interval: time.Hour},
		OTLP:        OTLPConfig{Endpoint: rcv.URL()},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHistogram[string, float64](Meter(tel.MeterProvider()), HistogramSpec{
		Name: MetricAuthzDuration, Unit: "s", Description: "d", Boundaries: []float64{0.1, 1}}, routeAttrs)
	if err != nil {
		t.Fatal(err)
	}
	h.Record(sampled(7), "/x", 0.5)
	h.Record(context.Background(), "/x", 2)
	shutdown(t, tel) // the final collection is pushed on shutdown
	var found bool
	for _, rm := range rcv.Metrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != MetricAuthzDuration {
					continue
				}
				found = true
				if sm.GetScope().GetName() != ScopeName || m.GetUnit() != "s" {
					t.Errorf("scope %q, unit %q; want %q, s", sm.GetScope().GetName(), m.GetUnit(), ScopeName)
				}
				dp := m.GetHistogram().GetDataPoints()[0]
				if fmt.Sprint(dp.GetExplicitBounds(), dp.GetBucketCounts()) != "[0.1 1] [0 1 1]" || dp.GetSum() != 2.5 || dp.GetCount() != 2 {
					t.Errorf("bounds %v, counts %v, sum %v, count %d; want [0.1 1], [0 1 1], 2.5, 2",
						dp.GetExplicitBounds(), dp.GetBucketCounts(), dp.GetSum(), dp.GetCount())
				}
				if ex := dp.GetExemplars(); len(ex) != 1 || ex[0].GetTraceId()[0] != 7 {
					t.Errorf("exemplars %v, want one from trace 07…", ex)
				}
			}
		}
	}
	if !found {
		t.Fatalf("collector got no %s", MetricAuthzDuration)
	}
}

// BenchmarkHistogramRecord compares one parallel Record of a cached label
// set through Troupe's cell (own) with the SDK's Record on a cached
// attribute set (sdk), both with a context holding no span, as on a
// request with tracing off.
func BenchmarkHistogramRecord(b *testing.B) {
	p := newHistogramPair(b, 2000)
	spec := HistogramSpec{Name: "http.server.request.duration", Unit: "s", Boundaries: DurationBuckets}
	own, _ := NewHistogram[string, float64](p.own, spec, routeAttrs)
	cell := own.Cell("/orders/:id")
	inst, _ := p.sdk.Float64Histogram(spec.Name, metric.WithExplicitBucketBoundaries(DurationBuckets...))
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(routeAttrs("/orders/:id")...))}
	ctx := context.Background()
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				cell.Record(ctx, 0.012)
			}
		})
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				inst.Record(ctx, 0.012, opts...)
			}
		})
	})
}
