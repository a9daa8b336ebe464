package telemetry

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// collectSum returns the data points of the sum named name.
func collectSum(t *testing.T, reader interface {
	Collect(context.Context, *metricdata.ResourceMetrics) error
}, name string) metricdata.Sum[int64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data.(metricdata.Sum[int64])
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return metricdata.Sum[int64]{}
}

// TestCounterExportsSums checks that a Counter exports what a synchronous
// counter would: a cumulative sum per label set, monotonic or not, for
// concurrent adds.
func TestCounterExportsSums(t *testing.T) {
	for _, upDown := range []bool{false, true} {
		t.Run("updown="+strconv.FormatBool(upDown), func(t *testing.T) {
			mp, reader := newManual(t)
			c, err := NewCounter(Meter(mp), CounterSpec{Name: "troupe.test.count", Unit: "{x}", Description: "d", UpDown: upDown},
				func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} })
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 1000 {
						c.Add("/a", 1)
						c.Cell("/b").Add(2)
					}
				})
			}
			wg.Wait()
			if upDown {
				c.Add("/a", -4000)
			}
			sum := collectSum(t, reader, "troupe.test.count")
			if sum.IsMonotonic == upDown || sum.Temporality != metricdata.CumulativeTemporality {
				t.Errorf("monotonic %v, temporality %v; want monotonic %v, cumulative", sum.IsMonotonic, sum.Temporality, !upDown)
			}
			want := map[string]int64{"/a": 4000, "/b": 8000}
			if upDown {
				want["/a"] = 0
			}
			if len(sum.DataPoints) != len(want) {
				t.Fatalf("%d series, want %d: %+v", len(sum.DataPoints), len(want), sum.DataPoints)
			}
			for _, dp := range sum.DataPoints {
				route, _ := dp.Attributes.Value(KeyRoute)
				if dp.Value != want[route.AsString()] {
					t.Errorf("%s = %d, want %d", route.AsString(), dp.Value, want[route.AsString()])
				}
			}
		})
	}
}

// TestCounterBounded checks that label tuples past the bound are counted in
// one overflow series instead of growing the map.
func TestCounterBounded(t *testing.T) {
	mp, reader := newManual(t)
	c, _ := NewCounter(Meter(mp), CounterSpec{Name: "troupe.test.bounded", Unit: "{x}"},
		func(i int) []attribute.KeyValue { return []attribute.KeyValue{attribute.Int("i", i)} })
	for i := range maxCachedSets + 5 {
		c.Add(i, 1)
	}
	if len(c.cells) != maxCachedSets {
		t.Errorf("counter holds %d cells, want the bound %d", len(c.cells), maxCachedSets)
	}
	sum := collectSum(t, reader, "troupe.test.bounded")
	var overflow int64
	for _, dp := range sum.DataPoints {
		if v, ok := dp.Attributes.Value(KeyOverflow); ok && v.AsBool() {
			overflow = dp.Value
		}
	}
	// The SDK's own cardinality limit (2,000 series by default) folds more
	// into the same overflow series; the Counter's own five are among them.
	if got := c.overflow.n.Load(); got != 5 {
		t.Errorf("overflow cell = %d, want 5", got)
	}
	if overflow < 5 {
		t.Errorf("exported overflow series = %d, want at least the 5 past the bound", overflow)
	}
}

// TestNilCounter checks that a nil Counter (metrics off) is safe to use.
func TestNilCounter(t *testing.T) {
	var c *Counter[string]
	c.Add("x", 1)
	c.Cell("x").Add(1)
}

func BenchmarkCounterAdd(b *testing.B) {
	mp, _ := newManual(b)
	c, _ := NewCounter(Meter(mp), CounterSpec{Name: "troupe.bench.count", Unit: "{x}"},
		func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add("/orders/:id", 1)
		}
	})
}

// TestCountersOfOneInstrumentAddUp checks that two Counters made for the
// same instrument (as the verifier and the authorizer each make theirs)
// both reach the export, their sums added per label set.
func TestCountersOfOneInstrumentAddUp(t *testing.T) {
	mp, reader := newManual(t)
	spec := CounterSpec{Name: "troupe.test.shared", Unit: "{x}"}
	build := func(route string) []attribute.KeyValue { return []attribute.KeyValue{KeyRoute.String(route)} }
	a, _ := NewCounter(Meter(mp), spec, build)
	b, _ := NewCounter(Meter(mp), spec, build)
	a.Add("/a", 1)
	b.Add("/a", 2)
	b.Add("/b", 5)
	got := map[string]int64{}
	for _, dp := range collectSum(t, reader, "troupe.test.shared").DataPoints {
		route, _ := dp.Attributes.Value(KeyRoute)
		got[route.AsString()] = dp.Value
	}
	if got["/a"] != 3 || got["/b"] != 5 || len(got) != 2 {
		t.Errorf("exported %v, want /a=3 /b=5", got)
	}
}
