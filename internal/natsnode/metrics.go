package natsnode

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// rttTimeout bounds the round trip measured at each collection, so a slow
// server cannot hold a scrape for long.
const rttTimeout = time.Second

// Connection states of troupe.nats.connection.state: 0 is healthy, as for
// troupe.breaker.state, so an alert is "above 0".
const (
	stateConnected    = 0
	stateReconnecting = 1
	stateClosed       = 2
)

// metrics are the node's instruments. Most are observed at collection from
// the connection's own counters (nats.Conn.Stats), so the message path
// records nothing; only asynchronous errors are counted as they happen.
// Instrument constructors fail only for invalid names or units, which are
// constants here, so their errors are ignored (as in resilience/metrics.go).
type metrics struct {
	meter      metric.Meter
	errors     metric.Int64Counter
	errorKinds *telemetry.AttrCache[string]
}

// newMetrics builds the instruments on mp; nil for a nil mp.
func newMetrics(mp metric.MeterProvider) *metrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	errs, _ := m.Int64Counter(telemetry.MetricNATSErrors,
		metric.WithDescription("Asynchronous NATS errors: slow consumers, permission violations."), metric.WithUnit("{error}"))
	return &metrics{
		meter:  m,
		errors: errs,
		errorKinds: telemetry.NewAttrCache(func(kind string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyNATSError.String(kind)}
		}),
	}
}

// asyncError counts one asynchronous error of kind.
func (m *metrics) asyncError(kind string) {
	if m == nil {
		return
	}
	m.errors.Add(context.Background(), 1, m.errorKinds.Get(kind).Add...)
}

var (
	directionIn  = metric.WithAttributeSet(attribute.NewSet(telemetry.KeyNATSDirection.String("in")))
	directionOut = metric.WithAttributeSet(attribute.NewSet(telemetry.KeyNATSDirection.String("out")))
)

// register observes n's connection at each collection: its state, round
// trip time, reconnects, traffic and, for an embedded cluster, its routes.
// It returns nil without a MeterProvider.
func (m *metrics) register(n *Node) (metric.Registration, error) {
	if m == nil {
		return nil, nil
	}
	state, _ := m.meter.Int64ObservableGauge(telemetry.MetricNATSConnectionState,
		metric.WithDescription("NATS connection state: 0 connected, 1 connecting or reconnecting, 2 closed."), metric.WithUnit("{state}"))
	rtt, _ := m.meter.Float64ObservableGauge(telemetry.MetricNATSRTT,
		metric.WithDescription("Round trip time to the NATS server, measured at collection."), metric.WithUnit("s"))
	reconnects, _ := m.meter.Int64ObservableCounter(telemetry.MetricNATSReconnects,
		metric.WithDescription("Reconnections to NATS after a lost connection."), metric.WithUnit("{reconnect}"))
	messages, _ := m.meter.Int64ObservableCounter(telemetry.MetricNATSMessages,
		metric.WithDescription("Messages received from and sent to NATS."), metric.WithUnit("{message}"))
	traffic, _ := m.meter.Int64ObservableCounter(telemetry.MetricNATSTraffic,
		metric.WithDescription("Payload bytes received from and sent to NATS."), metric.WithUnit("By"))
	instruments := []metric.Observable{state, rtt, reconnects, messages, traffic}
	var routes metric.Int64ObservableGauge
	clustered := n.server != nil && n.cfg.Cluster.enabled()
	if clustered {
		routes, _ = m.meter.Int64ObservableGauge(telemetry.MetricNATSRoutes,
			metric.WithDescription("Other servers of the embedded NATS cluster this one has a route to."), metric.WithUnit("{server}"))
		instruments = append(instruments, routes)
	}
	return m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		nc := n.nc
		o.ObserveInt64(state, connectionState(nc.Status()))
		if nc.IsConnected() {
			start := time.Now()
			if nc.FlushTimeout(rttTimeout) == nil {
				o.ObserveFloat64(rtt, time.Since(start).Seconds())
			}
		}
		s := nc.Stats()
		o.ObserveInt64(reconnects, int64(s.Reconnects))
		o.ObserveInt64(messages, int64(s.InMsgs), directionIn)
		o.ObserveInt64(messages, int64(s.OutMsgs), directionOut)
		o.ObserveInt64(traffic, int64(s.InBytes), directionIn)
		o.ObserveInt64(traffic, int64(s.OutBytes), directionOut)
		if clustered {
			o.ObserveInt64(routes, int64(n.server.srv.NumRemotes()))
		}
		return nil
	}, instruments...)
}

// connectionState maps a connection status to the gauge's value.
func connectionState(s nats.Status) int64 {
	switch s {
	case nats.CONNECTED:
		return stateConnected
	case nats.CLOSED, nats.DRAINING_SUBS, nats.DRAINING_PUBS:
		return stateClosed
	}
	return stateReconnecting
}
