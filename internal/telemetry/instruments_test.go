package telemetry

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func newManual(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// point is one collected data point: its attributes (as "k=v" joined by
// ",", sorted) and its value (sum, gauge value or histogram count).
type point struct {
	attrs string
	value float64
}

func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("metrics under scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{setString(p.Attributes), float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{setString(p.Attributes), float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{setString(p.Attributes), float64(p.Count)})
				}
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func setString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

// TestInstrumentsRecord drives every method against the SDK and checks the
// series each one produced: name, attributes and value.
func TestInstrumentsRecord(t *testing.T) {
	mp, reader := newManual(t)
	ctx := context.Background()

	ac := NewActorMetrics(mp)
	ac.Processed(ctx, "orders", time.Millisecond)
	ac.Restarted(ctx, "orders")
	ac.DeadLetter(ctx, "no_such_actor")
	ac.Dropped(ctx, "orders", "drop_newest")
	co := NewComponentMetrics(mp)
	co.Denied(ctx, "fetcher", "network")
	co.Denied(ctx, "fetcher", "network")
	co.InstanceFailed(ctx, "echo", "timeout")
	co.Reloaded(ctx, "echo", true)
	co.Reloaded(ctx, "echo", false)
	unregister := ac.ObserveMailboxDepth(func(yield func(string, int64)) {
		yield("orders", 7)
		yield("billing", 0)
	})

	want := map[string][]point{
		MetricActorProcessingDuration:   {{"troupe.actor.kind=orders", 1}},
		MetricActorRestarts:             {{"troupe.actor.kind=orders", 1}},
		MetricActorDeadLetters:          {{"troupe.dead_letter.reason=no_such_actor", 1}},
		MetricActorMailboxDropped:       {{"troupe.actor.kind=orders,troupe.actor.overflow_policy=drop_newest", 1}},
		MetricActorMailboxDepth:         {{"troupe.actor.kind=orders", 7}, {"troupe.actor.kind=billing", 0}},
		MetricComponentDenials:          {{"troupe.capability.kind=network,troupe.component=fetcher", 2}},
		MetricComponentInstanceFailures: {{"troupe.component=echo,troupe.component.reason=timeout", 1}},
		MetricComponentReloads:          {{"troupe.component=echo,troupe.component.result=ok", 1}, {"troupe.component=echo,troupe.component.result=failed", 1}},
	}
	got := collect(t, reader)
	if len(want)+len(recordedElsewhere) != len(metricNames) {
		t.Fatalf("test covers %d metrics and %d are recorded elsewhere, names.go defines %d", len(want), len(recordedElsewhere), len(metricNames))
	}
	for _, name := range metricNames {
		if slices.Contains(recordedElsewhere, name) {
			continue
		}
		if !samePoints(got[name], want[name]) {
			t.Errorf("%s = %v, want %v", name, got[name], want[name])
		}
	}

	unregister()
	unregister() // safe twice
	if depth := collect(t, reader)[MetricActorMailboxDepth]; len(depth) != 0 {
		t.Errorf("mailbox depth after unregister = %v, want no points", depth)
	}
}

// recordedElsewhere are the metrics whose instruments live beside their
// subsystem, which tests them (resilience and authz: TestInstrumentsRecord).
var recordedElsewhere = []string{
	MetricAuthnResults, MetricAuthzDecisions, MetricAuthzDuration, MetricAuthCacheLookups,
	MetricRateLimitDecisions, MetricRateLimitStoreErrors,
	MetricBreakerTransitions, MetricBreakerState, MetricBreakerRejections,
	MetricBulkheadQueueDuration, MetricBulkheadInFlight, MetricBulkheadRejections,
	MetricSheddingRejections, MetricSheddingLimit,
	MetricClientRetries, MetricClientRetryBudgetExhausted,
}

// recordDecision records one rate-limit decision on a counter of its own,
// as resilience does: the tests of the export paths need a metric with
// attributes, and cannot import the packages that record them.
func recordDecision(mp metric.MeterProvider, route, kind, store, verdict string) {
	c, _ := Meter(mp).Int64Counter(MetricRateLimitDecisions, metric.WithUnit("{decision}"))
	c.Add(context.Background(), 1, metric.WithAttributes(KeyRoute.String(route), KeyRateLimitKind.String(kind),
		KeyRateLimitStore.String(store), KeyDecision.String(verdict)))
}

func samePoints(got, want []point) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestInstrumentsNilSafe calls every method on nil receivers and on sets
// built from a nil provider; none may panic.
func TestInstrumentsNilSafe(t *testing.T) {
	ctx := context.Background()
	for _, build := range []func() *ActorMetrics{
		func() *ActorMetrics { return nil },
		func() *ActorMetrics { return NewActorMetrics(nil) },
	} {
		ac := build()
		ac.Processed(ctx, "k", time.Second)
		ac.Restarted(ctx, "k")
		ac.DeadLetter(ctx, "x")
		ac.Dropped(ctx, "k", "reject")
		ac.ObserveMailboxDepth(func(yield func(string, int64)) { yield("k", 1) })()
		ac.ObserveMailboxDepth(nil)()
	}
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
