package authz

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/internal/telemetry"
)

// TestMetricsRecord drives every method against the SDK and checks the
// series each one produced: name, attributes and value (a sum, or a
// histogram's count).
func TestMetricsRecord(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ctx := context.Background()

	m := newMetrics(mp)
	m.authentication("invalid")
	m.decision(ctx, "/r", false, time.Microsecond)
	m.cacheLookup("token", true)
	m.cacheLookup("token", true)
	m.cacheLookup("decision", false)

	want := map[string][]string{
		telemetry.MetricAuthnResults:     {"troupe.authn.result=invalid 1"},
		telemetry.MetricAuthzDecisions:   {"http.route=/r,troupe.decision=deny 1"},
		telemetry.MetricAuthzDuration:    {"http.route=/r 1"},
		telemetry.MetricAuthCacheLookups: {"troupe.auth.cache=decision,troupe.cache.result=miss 1", "troupe.auth.cache=token,troupe.cache.result=hit 2"},
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != telemetry.ScopeName {
			t.Errorf("metrics under scope %q, want %q", sm.Scope.Name, telemetry.ScopeName)
		}
		for _, mt := range sm.Metrics {
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[mt.Name] = append(got[mt.Name], point(p.Attributes.ToSlice(), p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[mt.Name] = append(got[mt.Name], point(p.Attributes.ToSlice(), int64(p.Count)))
				}
			}
		}
	}
	for name, points := range want {
		slices.Sort(got[name])
		if !slices.Equal(got[name], points) {
			t.Errorf("%s = %v, want %v", name, got[name], points)
		}
	}
}

// point renders one data point as "k=v,k=v n", attributes sorted by key.
func point(attrs []attribute.KeyValue, n int64) string {
	parts := make([]string, len(attrs))
	for i, kv := range attrs {
		parts[i] = string(kv.Key) + "=" + kv.Value.String()
	}
	return strings.Join(parts, ",") + " " + strconv.FormatInt(n, 10)
}

// TestMetricsOff checks that no provider, or a noop one, records nothing at
// the cost of a nil check, and that the methods are safe on the nil result.
func TestMetricsOff(t *testing.T) {
	ctx := context.Background()
	for _, m := range []*metrics{newMetrics(nil), newMetrics(metricnoop.NewMeterProvider())} {
		if m != nil {
			t.Fatalf("newMetrics = %v, want nil", m)
		}
		m.authentication("ok")
		m.decision(ctx, "/r", true, time.Second)
		m.cacheLookup("token", false)
	}
}
