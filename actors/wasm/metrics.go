package wasm

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// instruments record the component runtime's capability denials, discarded
// instances and hot reloads. A nil *instruments (no meter provider) records
// nothing, so callers need no checks. Attribute sets are cached per label,
// so a recording allocates nothing.
//
// Instrument constructors fail only for invalid names or units; ours are
// constants that TestInstrumentsRecord exercises against the SDK, which
// returns a working instrument even alongside an error, so the errors are
// ignored.
type instruments struct {
	denials  metric.Int64Counter
	failures metric.Int64Counter
	reloads  metric.Int64Counter
	denySet  *telemetry.AttrCache[componentLabel]
	failSet  *telemetry.AttrCache[componentLabel]
	loadSet  *telemetry.AttrCache[componentLabel]
}

// componentLabel is a component name and one bounded second label.
type componentLabel struct{ component, value string }

// newInstruments creates the instruments from mp.
func newInstruments(mp metric.MeterProvider) *instruments {
	m := telemetry.Meter(mp)
	denials, _ := m.Int64Counter(telemetry.MetricComponentDenials,
		metric.WithDescription("Host calls refused for want of a capability."), metric.WithUnit("{call}"))
	failures, _ := m.Int64Counter(telemetry.MetricComponentInstanceFailures,
		metric.WithDescription("WASM instances discarded after a trap, a timeout or an ABI violation."),
		metric.WithUnit("{instance}"))
	reloads, _ := m.Int64Counter(telemetry.MetricComponentReloads,
		metric.WithDescription("Hot reloads of a component's module."), metric.WithUnit("{reload}"))
	labels := func(second attribute.Key) func(componentLabel) []attribute.KeyValue {
		return func(l componentLabel) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyComponent.String(l.component), second.String(l.value)}
		}
	}
	return &instruments{
		denials: denials, failures: failures, reloads: reloads,
		denySet: telemetry.NewAttrCache(labels(telemetry.KeyCapability)),
		failSet: telemetry.NewAttrCache(labels(telemetry.KeyKillReason)),
		loadSet: telemetry.NewAttrCache(labels(telemetry.KeyReloadResult)),
	}
}

// denied counts one host call by component refused for want of a
// capability of kind (file, network, actor, topic or kv).
func (m *instruments) denied(ctx context.Context, component, kind string) {
	if m == nil {
		return
	}
	m.denials.Add(ctx, 1, m.denySet.Get(componentLabel{component, kind}).Add...)
}

// instanceFailed counts one instance of component discarded for reason
// (timeout, trap, abi, health or closed).
func (m *instruments) instanceFailed(ctx context.Context, component, reason string) {
	if m == nil {
		return
	}
	m.failures.Add(ctx, 1, m.failSet.Get(componentLabel{component, reason}).Add...)
}

// reloaded counts one hot reload of component; ok tells success from a
// module that failed to load and left the old version serving.
func (m *instruments) reloaded(ctx context.Context, component string, ok bool) {
	if m == nil {
		return
	}
	result := "failed"
	if ok {
		result = "ok"
	}
	m.reloads.Add(ctx, 1, m.loadSet.Get(componentLabel{component, result}).Add...)
}
