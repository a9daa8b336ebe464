// Package metrictest reads what an OpenTelemetry manual reader collected,
// for tests that assert which series a metric recorded.
package metrictest

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// HistogramCounts collects reader and returns, for the float64 histogram
// called name, the number of observations per value of the attribute key.
func HistogramCounts(t testing.TB, reader *sdkmetric.ManualReader, name, key string) map[string]uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok || m.Name != name {
				continue
			}
			for _, dp := range h.DataPoints {
				v, _ := dp.Attributes.Value(attribute.Key(key))
				counts[v.AsString()] += dp.Count
			}
		}
	}
	return counts
}
