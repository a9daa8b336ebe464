package telemetry

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func newManual(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// recordDecision records one rate-limit decision on a counter of its own,
// as resilience does: the tests of the export paths need a metric with
// attributes, and cannot import the packages that record them.
func recordDecision(mp metric.MeterProvider, route, kind, store, verdict string) {
	c, _ := Meter(mp).Int64Counter(MetricRateLimitDecisions, metric.WithUnit("{decision}"))
	c.Add(context.Background(), 1, metric.WithAttributes(KeyRoute.String(route), KeyRateLimitKind.String(kind),
		KeyRateLimitStore.String(store), KeyDecision.String(verdict)))
}

// TestAttrCacheBounded checks that labels past the bound are still recorded
// correctly but no longer cached.
func TestAttrCacheBounded(t *testing.T) {
	c := NewAttrCache(func(s string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(s)} })
	for i := range maxCachedSets + 10 {
		c.Get(strconv.Itoa(i))
	}
	if len(c.m) != maxCachedSets {
		t.Errorf("cache holds %d sets, want the bound %d", len(c.m), maxCachedSets)
	}
	o := c.Get("uncached-label")
	if len(o.Add) != 1 || len(o.Rec) != 1 || len(o.Obs) != 1 {
		t.Errorf("options past the bound = %+v, want one of each", o)
	}
	if c.Get("uncached-label") == o {
		t.Error("a label past the bound was cached")
	}
}

func TestTracerScope(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	_, span := Tracer(tp).Start(context.Background(), "x")
	span.End()
	scope := rec.Ended()[0].InstrumentationScope()
	if scope.Name != ScopeName || scope.Version != ScopeVersion {
		t.Errorf("scope = %s@%s, want %s@%s", scope.Name, scope.Version, ScopeName, ScopeVersion)
	}
	if _, span := Tracer(nil).Start(context.Background(), "x"); span.IsRecording() {
		t.Error("Tracer(nil) records spans")
	}
}

// TestDocumentedMetrics keeps docs/observability.md in step with names.go.
func TestDocumentedMetrics(t *testing.T) {
	doc, err := os.ReadFile("../../docs/observability.md")
	if os.IsNotExist(err) {
		t.Skip("docs/observability.md does not exist yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range metricNames {
		if !strings.Contains(string(doc), name) {
			t.Errorf("docs/observability.md does not mention %s", name)
		}
	}
}
