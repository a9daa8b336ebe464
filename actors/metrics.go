package actors

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// bg is the context metrics are recorded with: the hot path has no request
// context of its own and must not allocate one.
var bg = context.Background()

// instruments record the actor system's processing, restarts, dead letters,
// drops and mailbox depth. The System holds nil without a meter provider;
// every use is guarded by a nil check so that is all the hot path pays.
// Attribute sets are cached per label, so a recording allocates nothing.
//
// Instrument constructors fail only for invalid names or units; ours are
// constants that TestInstrumentsRecord exercises against the SDK, which
// returns a working instrument even alongside an error, so the errors are
// ignored.
type instruments struct {
	meter       metric.Meter
	processing  metric.Float64Histogram
	restarts    metric.Int64Counter
	deadLetters metric.Int64Counter
	drops       metric.Int64Counter
	depth       metric.Int64ObservableGauge
	kindSet     *telemetry.AttrCache[string]
	reasonSet   *telemetry.AttrCache[string]
	dropSet     *telemetry.AttrCache[dropLabel]
}

// dropLabel is the label pair of a drop.
type dropLabel struct {
	kind   string
	policy OverflowPolicy
}

// newInstruments creates the instruments from mp.
func newInstruments(mp metric.MeterProvider) *instruments {
	m := telemetry.Meter(mp)
	processing, _ := m.Float64Histogram(telemetry.MetricActorProcessingDuration,
		metric.WithDescription("Time an actor took to process one message."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(telemetry.DurationBuckets...))
	restarts, _ := m.Int64Counter(telemetry.MetricActorRestarts,
		metric.WithDescription("Actor restarts by a supervisor."), metric.WithUnit("{restart}"))
	deadLetters, _ := m.Int64Counter(telemetry.MetricActorDeadLetters,
		metric.WithDescription("Messages that reached no actor."), metric.WithUnit("{message}"))
	drops, _ := m.Int64Counter(telemetry.MetricActorMailboxDropped,
		metric.WithDescription("Messages a full mailbox dropped or rejected."), metric.WithUnit("{message}"))
	depth, _ := m.Int64ObservableGauge(telemetry.MetricActorMailboxDepth,
		metric.WithDescription("Messages waiting in mailboxes."), metric.WithUnit("{message}"))
	return &instruments{
		meter: m, processing: processing, restarts: restarts,
		deadLetters: deadLetters, drops: drops, depth: depth,
		kindSet: telemetry.NewAttrCache(func(kind string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyActorKind.String(kind)}
		}),
		reasonSet: telemetry.NewAttrCache(func(reason string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyDeadLetter.String(reason)}
		}),
		dropSet: telemetry.NewAttrCache(func(l dropLabel) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyActorKind.String(l.kind), telemetry.KeyOverflowPolicy.String(l.policy.String())}
		}),
	}
}

// processed records that an actor of kind processed one message in d.
func (m *instruments) processed(ctx context.Context, kind string, d time.Duration) {
	m.processing.Record(ctx, d.Seconds(), m.kindSet.Get(kind).Rec...)
}

// restarted counts one restart of an actor of kind.
func (m *instruments) restarted(ctx context.Context, kind string) {
	m.restarts.Add(ctx, 1, m.kindSet.Get(kind).Add...)
}

// deadLetter counts one message that reached no actor, for reason (one of
// the Reason constants).
func (m *instruments) deadLetter(ctx context.Context, reason string) {
	m.deadLetters.Add(ctx, 1, m.reasonSet.Get(reason).Add...)
}

// dropped counts one message that the mailbox of an actor of kind dropped
// or rejected under policy.
func (m *instruments) dropped(ctx context.Context, kind string, policy OverflowPolicy) {
	m.drops.Add(ctx, 1, m.dropSet.Get(dropLabel{kind, policy}).Add...)
}

// observeDepth registers report, which is called at every metric collection
// and yields the current mailbox depth per actor kind, once per kind.
// Reporting on demand keeps the depth off the message hot path. The
// returned func unregisters report.
func (m *instruments) observeDepth(report func(yield func(kind string, depth int64))) (unregister func()) {
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		report(func(kind string, depth int64) {
			o.ObserveInt64(m.depth, depth, m.kindSet.Get(kind).Obs...)
		})
		return nil
	}, m.depth)
	if err != nil {
		// Only an instrument from a foreign provider fails here, and ours
		// comes from the same meter.
		return func() {}
	}
	return func() { _ = reg.Unregister() }
}

// reportDepth yields the queued messages per actor kind, walking the
// supervision tree at collection time rather than tracking depth per message.
func (s *System) reportDepth(yield func(kind string, depth int64)) {
	depth := make(map[string]int64)
	var walk func(p *process)
	walk = func(p *process) {
		if p != s.root {
			depth[p.kind] += int64(p.mb.depth())
		}
		for _, c := range p.children() {
			walk(c)
		}
	}
	walk(s.root)
	for kind, d := range depth {
		yield(kind, d)
	}
}
