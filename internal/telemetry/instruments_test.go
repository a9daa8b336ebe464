package telemetry

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
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

	rl := NewRateLimitMetrics(mp)
	rl.Decision(ctx, "/r", "user", "redis", true)
	rl.Decision(ctx, "/r", "user", "redis", true)
	rl.Decision(ctx, "/r", "ip", "memory", false)
	rl.StoreError(ctx, "redis")

	br := NewBreakerMetrics(mp)
	br.StateChange(ctx, "billing", "outbound", "closed", "open")
	br.StateChange(ctx, "billing", "outbound", "open", "half-open")
	br.StateChange(ctx, "billing", "outbound", "half-open", "weird") // counted, gauge untouched
	br.Rejected(ctx, "billing", "outbound")

	bh := NewBulkheadMetrics(mp)
	bh.Acquired(ctx, "db", time.Millisecond)
	bh.Acquired(ctx, "db", 0)
	bh.Released(ctx, "db")
	bh.Rejected(ctx, "db")

	sh := NewSheddingMetrics(mp)
	sh.Rejected(ctx, "/r")
	sh.Limit(ctx, 40)

	rt := NewRetryMetrics(mp)
	rt.Attempt(ctx, "api.example.com", false)
	rt.Attempt(ctx, "api.example.com", true)
	rt.Attempt(ctx, "api.example.com", true)
	rt.BudgetExhausted(ctx, "api.example.com")

	au := NewAuthMetrics(mp)
	au.Authentication(ctx, "invalid")
	au.Decision(ctx, "/r", false, time.Microsecond)
	au.CacheLookup(ctx, "token", true)
	au.CacheLookup(ctx, "token", true)
	au.CacheLookup(ctx, "decision", false)

	want := map[string][]point{
		MetricRateLimitDecisions: {
			{"http.route=/r,troupe.decision=allowed,troupe.ratelimit.key_kind=user,troupe.ratelimit.store=redis", 2},
			{"http.route=/r,troupe.decision=rejected,troupe.ratelimit.key_kind=ip,troupe.ratelimit.store=memory", 1},
		},
		MetricRateLimitStoreErrors: {{"troupe.ratelimit.store=redis", 1}},
		MetricBreakerTransitions: {
			{"troupe.breaker.from=closed,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=open", 1},
			{"troupe.breaker.from=open,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=half-open", 1},
			{"troupe.breaker.from=half-open,troupe.breaker.kind=outbound,troupe.breaker.name=billing,troupe.breaker.to=weird", 1},
		},
		MetricBreakerState:               {{"troupe.breaker.kind=outbound,troupe.breaker.name=billing", 1}},
		MetricBreakerRejections:          {{"troupe.breaker.kind=outbound,troupe.breaker.name=billing", 1}},
		MetricBulkheadQueueDuration:      {{"troupe.bulkhead.name=db", 2}},
		MetricBulkheadInFlight:           {{"troupe.bulkhead.name=db", 1}},
		MetricBulkheadRejections:         {{"troupe.bulkhead.name=db", 1}},
		MetricSheddingRejections:         {{"http.route=/r", 1}},
		MetricSheddingLimit:              {{"", 40}},
		MetricClientRetries:              {{"server.address=api.example.com,troupe.retry=false", 1}, {"server.address=api.example.com,troupe.retry=true", 2}},
		MetricClientRetryBudgetExhausted: {{"server.address=api.example.com", 1}},
		MetricAuthnResults:               {{"troupe.authn.result=invalid", 1}},
		MetricAuthzDecisions:             {{"http.route=/r,troupe.decision=deny", 1}},
		MetricAuthzDuration:              {{"http.route=/r", 1}},
		MetricAuthCacheLookups:           {{"troupe.auth.cache=token,troupe.cache.result=hit", 2}, {"troupe.auth.cache=decision,troupe.cache.result=miss", 1}},
	}
	// The actor and component instruments live in actors and actors/wasm,
	// whose tests check their series the same way.
	got := collect(t, reader)
	for name, w := range want {
		if !samePoints(got[name], w) {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
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
	for _, build := range []func() (*RateLimitMetrics, *BreakerMetrics, *BulkheadMetrics, *SheddingMetrics, *RetryMetrics, *AuthMetrics){
		func() (*RateLimitMetrics, *BreakerMetrics, *BulkheadMetrics, *SheddingMetrics, *RetryMetrics, *AuthMetrics) {
			return nil, nil, nil, nil, nil, nil
		},
		func() (*RateLimitMetrics, *BreakerMetrics, *BulkheadMetrics, *SheddingMetrics, *RetryMetrics, *AuthMetrics) {
			return NewRateLimitMetrics(nil), NewBreakerMetrics(nil), NewBulkheadMetrics(nil), NewSheddingMetrics(nil),
				NewRetryMetrics(nil), NewAuthMetrics(nil)
		},
	} {
		rl, br, bh, sh, rt, au := build()
		rl.Decision(ctx, "r", "ip", "memory", true)
		rl.StoreError(ctx, "memory")
		br.StateChange(ctx, "b", "inbound", "closed", "open")
		br.Rejected(ctx, "b", "inbound")
		bh.Acquired(ctx, "b", time.Second)
		bh.Released(ctx, "b")
		bh.Rejected(ctx, "b")
		sh.Rejected(ctx, "r")
		sh.Limit(ctx, 1)
		rt.Attempt(ctx, "h", true)
		rt.BudgetExhausted(ctx, "h")
		au.Authentication(ctx, "ok")
		au.Decision(ctx, "r", true, time.Second)
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
