package resilience

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/internal/telemetry"
)

func newManualProvider(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// collectPoints returns every data point reader holds, per metric name, as
// "attributes=value" with the attributes sorted ("k=v,k=v") and the value a
// sum, a gauge's value or a histogram's count.
func collectPoints(t *testing.T, reader *sdkmetric.ManualReader) map[string][]string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	attrs := func(s attribute.Set) string {
		var parts []string
		for _, kv := range s.ToSlice() {
			parts = append(parts, string(kv.Key)+"="+kv.Value.String())
		}
		return strings.Join(parts, ",")
	}
	out := map[string][]string{}
	add := func(name string, s attribute.Set, v int64) {
		out[name] = append(out[name], attrs(s)+"="+strconv.FormatInt(v, 10))
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != telemetry.ScopeName {
			t.Errorf("metrics under scope %q, want %q", sm.Scope.Name, telemetry.ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes, p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes, p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, p.Attributes, int64(p.Count))
				}
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	for _, points := range out {
		slices.Sort(points)
	}
	return out
}

// TestInstrumentsRecord drives every instrument of the package against the
// SDK and checks the series each produced: name, attributes and value.
func TestInstrumentsRecord(t *testing.T) {
	mp, reader := newManualProvider(t)
	ctx := context.Background()

	rl := newRateLimitMetrics(mp)
	rl.decision("/r", "user", "redis", true)
	rl.decision("/r", "user", "redis", true)
	rl.decision("/r", "ip", "memory", false)
	rl.storeError(ctx, "redis")

	br := newBreakerMetrics(mp)
	br.stateChange(ctx, "billing", "outbound", "closed", "open")
	br.stateChange(ctx, "billing", "outbound", "open", "half-open")
	br.stateChange(ctx, "billing", "outbound", "half-open", "weird") // counted, gauge untouched
	br.rejected(ctx, "billing", "outbound")

	bh := newBulkheadMetrics(mp)
	bh.acquired(ctx, "db", time.Millisecond)
	bh.acquired(ctx, "db", 0)
	bh.released("db")
	bh.rejected(ctx, "db")

	sh := newSheddingMetrics(mp)
	sh.rejected(ctx, "/r")
	sh.setLimit(ctx, 40)

	rt := newRetryMetrics(mp)
	rt.attempt(ctx, "api.example.com", false)
	rt.attempt(ctx, "api.example.com", true)
	rt.attempt(ctx, "api.example.com", true)
	rt.budgetExhausted(ctx, "api.example.com")

	want := map[string][]string{
		telemetry.MetricRateLimitDecisions: {
			"http.route=/r,troupe.decision=allowed,troupe.ratelimit.key_kind=user,troupe.ratelimit.store=redis=2",
			"http.route=/r,troupe.decision=rejected,troupe.ratelimit.key_kind=ip,troupe.ratelimit.store=memory=1",
		},
		telemetry.MetricRateLimitStoreErrors: {"troupe.ratelimit.store=redis=1"},
		telemetry.MetricBreakerTransitions: {
			"troupe.breaker.from=closed,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=open=1",
			"troupe.breaker.from=half-open,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=weird=1",
			"troupe.breaker.from=open,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=half-open=1",
		},
		telemetry.MetricBreakerState:               {"troupe.breaker.kind=outbound,troupe.breaker.name=billing=1"},
		telemetry.MetricBreakerRejections:          {"troupe.breaker.kind=outbound,troupe.breaker.name=billing=1"},
		telemetry.MetricBulkheadQueueDuration:      {"troupe.bulkhead.name=db=2"},
		telemetry.MetricBulkheadInFlight:           {"troupe.bulkhead.name=db=1"},
		telemetry.MetricBulkheadRejections:         {"troupe.bulkhead.name=db=1"},
		telemetry.MetricSheddingRejections:         {"http.route=/r=1"},
		telemetry.MetricSheddingLimit:              {"=40"},
		telemetry.MetricClientRetries:              {"server.address=api.example.com,troupe.retry=false=1", "server.address=api.example.com,troupe.retry=true=2"},
		telemetry.MetricClientRetryBudgetExhausted: {"server.address=api.example.com=1"},
	}
	got := collectPoints(t, reader)
	if len(got) != len(want) {
		t.Errorf("recorded %d metrics, want %d: %v", len(got), len(want), got)
	}
	for name, points := range want {
		if !slices.Equal(got[name], points) {
			t.Errorf("%s = %v, want %v", name, got[name], points)
		}
	}
}

// TestInstrumentsOff checks that a nil provider builds nil sets, whose
// methods return without recording (nor panicking).
func TestInstrumentsOff(t *testing.T) {
	ctx := context.Background()
	rl, br, bh, sh, rt := newRateLimitMetrics(nil), newBreakerMetrics(nil), newBulkheadMetrics(nil), newSheddingMetrics(nil), newRetryMetrics(nil)
	if rl != nil || br != nil || bh != nil || sh != nil || rt != nil {
		t.Fatal("a nil provider built instruments")
	}
	rl.decision("r", "ip", "memory", true)
	rl.storeError(ctx, "memory")
	br.stateChange(ctx, "b", "inbound", "closed", "open")
	br.rejected(ctx, "b", "inbound")
	bh.acquired(ctx, "b", time.Second)
	bh.released("b")
	bh.rejected(ctx, "b")
	sh.rejected(ctx, "r")
	sh.setLimit(ctx, 1)
	rt.attempt(ctx, "h", true)
	rt.budgetExhausted(ctx, "h")
}

// TestRecordingDoesNotAllocate pins the hot paths' promise: a warm
// recording on the SDK allocates nothing.
func TestRecordingDoesNotAllocate(t *testing.T) {
	mp, _ := newManualProvider(t)
	rl, bh := newRateLimitMetrics(mp), newBulkheadMetrics(mp)
	ctx := context.Background()
	record := func() {
		rl.decision("/r", "ip", "memory", false)
		bh.acquired(ctx, "v1", 0)
		bh.released("v1")
	}
	record() // warm the attribute caches and the SDK's series
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Errorf("a warm recording allocates %v times, want 0", n)
	}
}

// BenchmarkRateLimitDecision measures one rate-limit decision count on the
// SDK.
func BenchmarkRateLimitDecision(b *testing.B) {
	mp, _ := newManualProvider(b)
	m := newRateLimitMetrics(mp)
	b.ReportAllocs()
	for b.Loop() {
		m.decision("/api/v1/orders/:id", "user", "redis", true)
	}
}
