package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ActorMetrics records the actor system's processing, restarts, dead letters,
// drops and mailbox depth.
type ActorMetrics struct {
	meter       metric.Meter
	processing  metric.Float64Histogram
	restarts    metric.Int64Counter
	deadLetters metric.Int64Counter
	dropped     metric.Int64Counter
	depth       metric.Int64ObservableGauge
	kindSet     *AttrCache[string]
	reasonSet   *AttrCache[string]
	dropSet     *AttrCache[actorDrop]
}

type actorDrop struct{ kind, policy string }

// NewActorMetrics creates the actor system's instruments from mp.
func NewActorMetrics(mp metric.MeterProvider) *ActorMetrics {
	m := Meter(mp)
	processing, _ := m.Float64Histogram(MetricActorProcessingDuration,
		metric.WithDescription("Time an actor took to process one message."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	restarts, _ := m.Int64Counter(MetricActorRestarts,
		metric.WithDescription("Actor restarts by a supervisor."), metric.WithUnit("{restart}"))
	deadLetters, _ := m.Int64Counter(MetricActorDeadLetters,
		metric.WithDescription("Messages that reached no actor."), metric.WithUnit("{message}"))
	dropped, _ := m.Int64Counter(MetricActorMailboxDropped,
		metric.WithDescription("Messages a full mailbox dropped or rejected."), metric.WithUnit("{message}"))
	depth, _ := m.Int64ObservableGauge(MetricActorMailboxDepth,
		metric.WithDescription("Messages waiting in mailboxes."), metric.WithUnit("{message}"))
	kindAttrs := func(kind string) []attribute.KeyValue { return []attribute.KeyValue{KeyActorKind.String(kind)} }
	return &ActorMetrics{
		meter: m, processing: processing, restarts: restarts,
		deadLetters: deadLetters, dropped: dropped, depth: depth,
		kindSet: NewAttrCache(kindAttrs),
		reasonSet: NewAttrCache(func(reason string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyDeadLetter.String(reason)}
		}),
		dropSet: NewAttrCache(func(k actorDrop) []attribute.KeyValue {
			return []attribute.KeyValue{KeyActorKind.String(k.kind), KeyOverflowPolicy.String(k.policy)}
		}),
	}
}

// Processed records that an actor of kind processed one message in d.
func (m *ActorMetrics) Processed(ctx context.Context, kind string, d time.Duration) {
	if m == nil {
		return
	}
	m.processing.Record(ctx, d.Seconds(), m.kindSet.Get(kind).Rec...)
}

// Restarted counts one restart of an actor of kind.
func (m *ActorMetrics) Restarted(ctx context.Context, kind string) {
	if m == nil {
		return
	}
	m.restarts.Add(ctx, 1, m.kindSet.Get(kind).Add...)
}

// DeadLetter counts one message that reached no actor, for reason (a fixed
// set such as no_such_actor, stopped, reply_to_dead).
func (m *ActorMetrics) DeadLetter(ctx context.Context, reason string) {
	if m == nil {
		return
	}
	m.deadLetters.Add(ctx, 1, m.reasonSet.Get(reason).Add...)
}

// Dropped counts one message that the mailbox of an actor of kind dropped or
// rejected under its overflow policy.
func (m *ActorMetrics) Dropped(ctx context.Context, kind, policy string) {
	if m == nil {
		return
	}
	m.dropped.Add(ctx, 1, m.dropSet.Get(actorDrop{kind, policy}).Add...)
}

// ObserveMailboxDepth registers report, which is called at every metric
// collection and yields the current mailbox depth per actor kind. Reporting
// on demand keeps the depth off the message hot path. Yield each kind once
// per call. The returned func unregisters report; it is safe to call more
// than once.
func (m *ActorMetrics) ObserveMailboxDepth(report func(yield func(kind string, depth int64))) (unregister func()) {
	if m == nil || report == nil {
		return func() {}
	}
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
