package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ComponentMetrics are the instruments of the WASM component runtime. A nil
// *ComponentMetrics records nothing, so callers need no checks.
type ComponentMetrics struct {
	denials  metric.Int64Counter
	failures metric.Int64Counter
	reloads  metric.Int64Counter
	denySet  *AttrCache[componentLabel]
	failSet  *AttrCache[componentLabel]
	loadSet  *AttrCache[componentLabel]
}

// componentLabel is a component name and one bounded second label.
type componentLabel struct{ component, value string }

// NewComponentMetrics creates the component instruments from mp.
func NewComponentMetrics(mp metric.MeterProvider) *ComponentMetrics {
	m := Meter(mp)
	denials, _ := m.Int64Counter(MetricComponentDenials,
		metric.WithDescription("Host calls refused for want of a capability."), metric.WithUnit("{call}"))
	failures, _ := m.Int64Counter(MetricComponentInstanceFailures,
		metric.WithDescription("WASM instances discarded after a trap, a timeout or an ABI violation."),
		metric.WithUnit("{instance}"))
	reloads, _ := m.Int64Counter(MetricComponentReloads,
		metric.WithDescription("Hot reloads of a component's module."), metric.WithUnit("{reload}"))
	labels := func(second attribute.Key) func(componentLabel) []attribute.KeyValue {
		return func(l componentLabel) []attribute.KeyValue {
			return []attribute.KeyValue{KeyComponent.String(l.component), second.String(l.value)}
		}
	}
	return &ComponentMetrics{
		denials: denials, failures: failures, reloads: reloads,
		denySet: NewAttrCache(labels(KeyCapability)),
		failSet: NewAttrCache(labels(KeyKillReason)),
		loadSet: NewAttrCache(labels(KeyReloadResult)),
	}
}

// Denied counts one host call by component refused for want of a capability
// of kind (file, network, actor, topic or kv).
func (m *ComponentMetrics) Denied(ctx context.Context, component, kind string) {
	if m == nil {
		return
	}
	m.denials.Add(ctx, 1, m.denySet.Get(componentLabel{component, kind}).Add...)
}

// InstanceFailed counts one instance of component discarded for reason
// (timeout, trap, abi or health).
func (m *ComponentMetrics) InstanceFailed(ctx context.Context, component, reason string) {
	if m == nil {
		return
	}
	m.failures.Add(ctx, 1, m.failSet.Get(componentLabel{component, reason}).Add...)
}

// Reloaded counts one hot reload of component; ok tells success from a
// module that failed to load and left the old version serving.
func (m *ComponentMetrics) Reloaded(ctx context.Context, component string, ok bool) {
	if m == nil {
		return
	}
	result := "failed"
	if ok {
		result = "ok"
	}
	m.reloads.Add(ctx, 1, m.loadSet.Get(componentLabel{component, result}).Add...)
}
