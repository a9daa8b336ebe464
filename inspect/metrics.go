package inspect

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// instruments are the inspector's metrics: events recorded by kind, events
// dropped from the full buffer, cycles detected, and, observed at
// collection, the sampling rate and the buffers' memory.
type instruments struct {
	events, dropped, cycles metric.Int64Counter
	kinds                   *telemetry.AttrCache[string]
}

var bg = context.Background()

func newInstruments(mp metric.MeterProvider, i *Inspector) *instruments {
	m := telemetry.Meter(mp)
	events, _ := m.Int64Counter(telemetry.MetricInspectEvents,
		metric.WithDescription("Events the inspector recorded."), metric.WithUnit("{event}"))
	dropped, _ := m.Int64Counter(telemetry.MetricInspectDropped,
		metric.WithDescription("Recorded events replaced by newer ones before their retention ended."), metric.WithUnit("{event}"))
	cycles, _ := m.Int64Counter(telemetry.MetricInspectCycles,
		metric.WithDescription("Request cycles detected."), metric.WithUnit("{cycle}"))
	rate, _ := m.Float64ObservableGauge(telemetry.MetricInspectSamplingRate,
		metric.WithDescription("Share of messages the inspector traces."), metric.WithUnit("{rate}"))
	mem, _ := m.Int64ObservableGauge(telemetry.MetricInspectMemory,
		metric.WithDescription("Memory held by the inspector's event buffer and actor table."), metric.WithUnit("By"))
	// Only an instrument of another provider fails to register, and these
	// come from the same meter.
	_, _ = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := i.Stats()
		o.ObserveFloat64(rate, st.SamplingRate)
		o.ObserveInt64(mem, int64(st.Bytes))
		return nil
	}, rate, mem)
	return &instruments{
		events: events, dropped: dropped, cycles: cycles,
		kinds: telemetry.NewAttrCache(func(k string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyInspectKind.String(k)}
		}),
	}
}

// recorded counts an event of kind, and the events it pushed out.
func (m *instruments) recorded(kind string, dropped uint64) {
	m.events.Add(bg, 1, m.kinds.Get(kind).Add...)
	if dropped > 0 {
		m.dropped.Add(bg, int64(dropped))
	}
}

func (m *instruments) cycle() { m.cycles.Add(bg, 1) }
