package realtime

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// WebSocket close codes (RFC 6455 §7.4.1) the package sends or reports.
const (
	closeNormal        = 1000
	closeGoingAway     = 1001
	closeUnsupported   = 1003
	closeAbnormal      = 1006 // reported, never sent: the connection was lost
	closeInvalidData   = 1007
	closePolicy        = 1008
	closeTooBig        = 1009
	closeTryAgainLater = 1013
)

// Transports, the troupe.realtime.transport label.
const (
	transportWebSocket = iota
	transportSSE
	numTransports
)

var transportNames = [numTransports]string{"websocket", "sse"}

// Upgrade outcomes, the troupe.realtime.outcome label.
const (
	outcomeAccepted       = "accepted"
	outcomeNodeLimit      = "node_limit"      // 503: max_connections
	outcomePrincipalLimit = "principal_limit" // 429: max_connections_per_principal
	outcomeOrigin         = "origin"          // 403: Origin not allowed
	outcomeForbidden      = "forbidden"       // 403: a room's join refused
	outcomeBadRequest     = "bad_request"     // 400/426: not an upgrade, a bad room or position
	outcomeShuttingDown   = "shutting_down"   // 503
	outcomeUnavailable    = "unavailable"     // 503: the handler actor is not running
	outcomeFailed         = "failed"          // the handshake itself failed
)

var outcomes = []string{outcomeAccepted, outcomeNodeLimit, outcomePrincipalLimit, outcomeOrigin,
	outcomeForbidden, outcomeBadRequest, outcomeShuttingDown, outcomeUnavailable, outcomeFailed}

// Close reasons, the troupe.realtime.close_reason label and
// Disconnected.Reason.
const (
	reasonClientClosed = "client_closed"    // the client sent a close frame
	reasonClientGone   = "client_gone"      // the socket failed or hit EOF without one
	reasonIdleTimeout  = "idle_timeout"     // no pong or message within idle_timeout
	reasonSlowConsumer = "slow_consumer"    // outbound queue full under disconnect
	reasonRateLimited  = "rate_limited"     // past inbound_rate: 1008
	reasonTooBig       = "message_too_big"  // past max_message_size: 1009
	reasonInvalidUTF8  = "invalid_utf8"     // a text message that is not UTF-8: 1007
	reasonUnsupported  = "unsupported_data" // data the endpoint has no use for: 1003
	reasonProtocol     = "protocol_error"   // a WebSocket protocol violation
	reasonShutdown     = "shutdown"         // the hub shut down: 1001
	reasonServerClosed = "server_closed"    // an actor sent Close
	reasonWriteError   = "write_error"      // a write failed or stalled for idle_timeout
)

var reasons = []string{reasonClientClosed, reasonClientGone, reasonIdleTimeout, reasonSlowConsumer,
	reasonRateLimited, reasonTooBig, reasonInvalidUTF8, reasonUnsupported, reasonProtocol,
	reasonShutdown, reasonServerClosed, reasonWriteError}

// stats are the hub's counters. They are plain atomics on the message
// path; the instruments read them at collection time, so a message costs
// an atomic add per counter and a histogram record, whatever the exporter.
type stats struct {
	messagesIn, messagesOut atomic.Int64
	bytesIn, bytesOut       atomic.Int64
	drops                   atomic.Int64
	active                  [numTransports]atomic.Int64
	upgrades                [numTransports]map[string]*atomic.Int64
	closes                  [numTransports]map[string]*atomic.Int64
}

func (s *stats) init() {
	for t := range numTransports {
		s.upgrades[t] = make(map[string]*atomic.Int64, len(outcomes))
		for _, o := range outcomes {
			s.upgrades[t][o] = new(atomic.Int64)
		}
		s.closes[t] = make(map[string]*atomic.Int64, len(reasons))
		for _, r := range reasons {
			s.closes[t][r] = new(atomic.Int64)
		}
	}
}

// upgraded counts one upgrade attempt's outcome.
func (s *stats) upgraded(transport int, outcome string) { s.upgrades[transport][outcome].Add(1) }

// closed counts a closed connection.
func (s *stats) closed(transport int, reason string) {
	s.active[transport].Add(-1)
	s.closes[transport][reason].Add(1)
}

// received counts one inbound message of n bytes.
func (s *stats) received(n int) {
	s.messagesIn.Add(1)
	s.bytesIn.Add(int64(n))
}

// delivered counts the items a writer wrote and records their delivery
// latency: from publication for a room's message, from queuing otherwise.
func (h *Hub) delivered(items []outbound) {
	if len(items) == 0 {
		return
	}
	now := h.now()
	var bytes int64
	for i := range items {
		o := &items[i]
		bytes += int64(len(o.data))
		lat := now - o.at
		if o.pub != nil {
			lat = time.Since(o.pub.Time)
		}
		h.metrics.latency.Record(bg, lat.Seconds())
	}
	h.stats.messagesOut.Add(int64(len(items)))
	h.stats.bytesOut.Add(bytes)
}

// bg is the context of recordings: the message path has no request context.
var bg = context.Background()

// DeliveryBuckets are the bounds of troupe.realtime.delivery.duration:
// finer than the HTTP buckets, since the target is a p99 under 10 ms.
var DeliveryBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// instruments are the hub's metrics. Instrument constructors fail only for
// invalid names or units, and ours are constants exercised by the tests,
// so their errors are ignored.
type instruments struct {
	meter       metric.Meter
	latency     metric.Float64Histogram
	connections metric.Int64ObservableUpDownCounter
	limit       metric.Int64ObservableGauge
	upgrades    metric.Int64ObservableCounter
	messages    metric.Int64ObservableCounter
	bytes       metric.Int64ObservableCounter
	drops       metric.Int64ObservableCounter
	closes      metric.Int64ObservableCounter
}

func newInstruments(mp metric.MeterProvider) *instruments {
	m := telemetry.Meter(mp)
	in := &instruments{meter: m}
	in.latency, _ = m.Float64Histogram(telemetry.MetricRealtimeDeliveryDuration,
		metric.WithDescription("Time from a message's publication (or queuing) to its write to the connection."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(DeliveryBuckets...))
	in.connections, _ = m.Int64ObservableUpDownCounter(telemetry.MetricRealtimeConnections,
		metric.WithDescription("Open realtime connections."), metric.WithUnit("{connection}"))
	in.limit, _ = m.Int64ObservableGauge(telemetry.MetricRealtimeConnectionsLimit,
		metric.WithDescription("The process's connection limit (realtime.max_connections)."), metric.WithUnit("{connection}"))
	in.upgrades, _ = m.Int64ObservableCounter(telemetry.MetricRealtimeUpgrades,
		metric.WithDescription("Upgrade attempts by outcome."), metric.WithUnit("{upgrade}"))
	in.messages, _ = m.Int64ObservableCounter(telemetry.MetricRealtimeMessages,
		metric.WithDescription("Messages received from and written to clients."), metric.WithUnit("{message}"))
	in.bytes, _ = m.Int64ObservableCounter(telemetry.MetricRealtimeBytes,
		metric.WithDescription("Message bytes received from and written to clients."), metric.WithUnit("By"))
	in.drops, _ = m.Int64ObservableCounter(telemetry.MetricRealtimeSlowConsumerDrops,
		metric.WithDescription("Messages dropped because a connection's outbound queue was full."), metric.WithUnit("{message}"))
	in.closes, _ = m.Int64ObservableCounter(telemetry.MetricRealtimeCloses,
		metric.WithDescription("Closed connections by reason."), metric.WithUnit("{connection}"))
	return in
}

// observe reports h's counters at every collection.
func (in *instruments) observe(h *Hub) {
	dirIn := metric.WithAttributes(telemetry.KeyRealtimeDirection.String("in"))
	dirOut := metric.WithAttributes(telemetry.KeyRealtimeDirection.String("out"))
	s := &h.stats
	_, _ = in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(in.limit, int64(h.cfg.MaxConnections))
		o.ObserveInt64(in.messages, s.messagesIn.Load(), dirIn)
		o.ObserveInt64(in.messages, s.messagesOut.Load(), dirOut)
		o.ObserveInt64(in.bytes, s.bytesIn.Load(), dirIn)
		o.ObserveInt64(in.bytes, s.bytesOut.Load(), dirOut)
		o.ObserveInt64(in.drops, s.drops.Load())
		for t, name := range transportNames {
			tr := telemetry.KeyRealtimeTransport.String(name)
			o.ObserveInt64(in.connections, s.active[t].Load(), metric.WithAttributes(tr))
			for outcome, n := range s.upgrades[t] {
				if v := n.Load(); v > 0 {
					o.ObserveInt64(in.upgrades, v, metric.WithAttributes(tr, telemetry.KeyRealtimeOutcome.String(outcome)))
				}
			}
			for reason, n := range s.closes[t] {
				if v := n.Load(); v > 0 {
					o.ObserveInt64(in.closes, v, metric.WithAttributes(tr, telemetry.KeyRealtimeCloseReason.String(reason)))
				}
			}
		}
		return nil
	}, in.limit, in.messages, in.bytes, in.drops, in.connections, in.upgrades, in.closes)
}
