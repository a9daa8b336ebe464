package actors

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// remoteInstruments record the traffic between nodes: envelopes sent and
// received by operation, and how long remote calls waited. Messages lost
// on the way are dead letters, counted by troupe.actor.dead_letters with
// their reason. A nil *remoteInstruments records nothing, so callers need
// no check (nor the System a meter provider).
type remoteInstruments struct {
	sentC     metric.Int64Counter
	receivedC metric.Int64Counter
	duration  metric.Float64Histogram
	opSet     *telemetry.AttrCache[string]
	callSet   *telemetry.AttrCache[[2]string]
}

func newRemoteInstruments(mp metric.MeterProvider) *remoteInstruments {
	m := telemetry.Meter(mp)
	sent, _ := m.Int64Counter(telemetry.MetricActorRemoteSent,
		metric.WithDescription("Envelopes sent to other nodes."), metric.WithUnit("{message}"))
	received, _ := m.Int64Counter(telemetry.MetricActorRemoteReceived,
		metric.WithDescription("Envelopes received from other nodes."), metric.WithUnit("{message}"))
	duration, _ := m.Float64Histogram(telemetry.MetricActorRemoteRequestDuration,
		metric.WithDescription("Time a remote request or control call waited for its reply."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(telemetry.DurationBuckets...))
	return &remoteInstruments{
		sentC: sent, receivedC: received, duration: duration,
		opSet: telemetry.NewAttrCache(func(op string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRemoteOp.String(op)}
		}),
		callSet: telemetry.NewAttrCache(func(l [2]string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRemoteOp.String(l[0]), telemetry.KeyRemoteOutcome.String(l[1])}
		}),
	}
}

// opOf is the operation label of an envelope kind: send, request, reply,
// publish or control.
func opOf(k wireKind) string {
	switch k {
	case kindSend:
		return "send"
	case kindRequest:
		return opRequest
	case kindReply:
		return "reply"
	case kindPublish:
		return "publish"
	}
	return opControl
}

func (m *remoteInstruments) sent(k wireKind) {
	if m != nil {
		m.sentC.Add(bg, 1, m.opSet.Get(opOf(k)).Add...)
	}
}

func (m *remoteInstruments) sentN(k wireKind, n int) {
	if m != nil {
		m.sentC.Add(bg, int64(n), m.opSet.Get(opOf(k)).Add...)
	}
}

func (m *remoteInstruments) received(k wireKind) {
	if m != nil {
		m.receivedC.Add(bg, 1, m.opSet.Get(opOf(k)).Add...)
	}
}

// replied records a call's wait: op is request or control, outcome ok,
// error (a typed error came back) or timeout.
func (m *remoteInstruments) replied(op, outcome string, d time.Duration) {
	if m != nil {
		m.duration.Record(bg, d.Seconds(), m.callSet.Get([2]string{op, outcome}).Rec...)
	}
}
