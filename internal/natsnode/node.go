package natsnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/metric"
)

// Node is one process's NATS: a connection, to an embedded server it runs
// or to an external NATS, that reconnects forever until Close. Its methods
// are safe for concurrent use.
type Node struct {
	cfg    Config
	logger *slog.Logger
	server *embedded // nil for an external NATS
	nc     *nats.Conn
	js     jetstream.JetStream

	metrics   *metrics
	metricReg metric.Registration // nil without a MeterProvider

	mu        sync.Mutex
	downSince time.Time     // when the connection was last lost; zero while up
	lastErr   error         // the last connection error while down
	changed   chan struct{} // closed and replaced at every state change
	closed    chan struct{} // closed when the connection is closed for good

	closing   atomic.Bool // Close has begun: a disconnect is expected
	closeOnce sync.Once
	closeErr  error
}

// Start validates cfg, starts the embedded server when cfg.URL is "", and
// connects. To an embedded server it returns connected; to an external
// NATS it returns at once, connected or still trying (the first attempt
// failing is not an error: the node keeps trying with backoff, readiness
// fails meanwhile, and WaitConnected waits for it). Errors name the field
// at fault as *fielderr.Error where one is.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, logger: cfg.logger().With("nats", "client"), changed: make(chan struct{}), closed: make(chan struct{})}
	opts, err := n.clientOptions()
	if err != nil {
		return nil, err
	}
	url := cfg.URL
	if cfg.embedded() {
		n.server, err = startEmbedded(ctx, cfg, newServerLog(cfg.logger()))
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.InProcessServer(n.server.srv), nats.IgnoreDiscoveredServers())
		if n.server.token != "" {
			opts = append(opts, nats.Token(n.server.token))
		}
		url = ""
	}
	n.metrics = newMetrics(cfg.MeterProvider)
	n.nc, err = nats.Connect(url, opts...)
	if err == nil {
		n.js, err = jetstream.New(n.nc)
	}
	if err == nil {
		n.metricReg, err = n.metrics.register(n)
	}
	if err != nil {
		n.abort()
		return nil, fmt.Errorf("natsnode: connecting: %w", err)
	}
	if !n.nc.IsConnected() {
		n.markDown(n.nc.LastError(), false)
	}
	n.logStart()
	return n, nil
}

// abort releases what a failed Start made.
func (n *Node) abort() {
	if n.nc != nil {
		n.nc.Close()
	}
	if n.server != nil {
		n.server.shutdown()
	}
}

// logStart logs the mode the node runs in, without credentials.
func (n *Node) logStart() {
	if n.server == nil {
		n.logger.Info("NATS: connecting to an external cluster", "url", redactURLs(n.cfg.URL), "connected", n.nc.IsConnected())
		return
	}
	attrs := []any{"server_name", n.server.srv.Name(), "jetstream_store", n.cfg.store()}
	if n.cfg.Cluster.enabled() {
		attrs = append(attrs, "cluster", n.server.srv.ClusterName(), "route_listen", n.server.srv.ClusterAddr().String(), "routes", len(n.cfg.Cluster.Routes))
	}
	if a := n.server.srv.Addr(); a != nil {
		attrs = append(attrs, "client_listen", a.String())
	}
	n.logger.Info("NATS: embedded server started", attrs...)
}

// Conn returns the connection. It stays the same *nats.Conn across
// reconnects. While the node is disconnected a publish fails at once
// (nats.ErrReconnectBufExceeded, see IsUnavailable) rather than buffering
// messages whose senders believe them sent.
func (n *Node) Conn() *nats.Conn { return n.nc }

// JetStream returns a JetStream context on the connection.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Embedded reports whether the node runs its own nats-server.
func (n *Node) Embedded() bool { return n.server != nil }

// Storage returns the storage that buckets Troupe creates should use:
// memory or file, as JetStreamConfig.Store says.
func (n *Node) Storage() jetstream.StorageType {
	if n.cfg.store() == StoreMemory {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// MaxPayload returns the largest message the node should send: Config's
// MaxPayload, or the server's limit when that is smaller.
func (n *Node) MaxPayload() int64 {
	limit := n.cfg.maxPayload()
	if server := n.nc.MaxPayload(); server > 0 && server < limit {
		return server
	}
	return limit
}

// Check reports whether the node is connected: nil when it is, otherwise
// an error matching ErrUnavailable that says for how long and why. It is
// a readiness check; whether a failure fails readiness or only warns is
// the caller's decision.
func (n *Node) Check(context.Context) error { return n.available() }

// available returns nil while connected, else an unavailableError.
func (n *Node) available() error {
	status := n.nc.Status()
	if status == nats.CONNECTED {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return &unavailableError{status: status, since: n.downSince, cause: n.lastErr}
}

// WaitConnected waits until the node is connected, or returns an error
// matching ErrUnavailable (with the last connection error, such as an
// authorization violation) when ctx ends first.
func (n *Node) WaitConnected(ctx context.Context) error {
	for {
		n.mu.Lock()
		changed := n.changed
		n.mu.Unlock()
		err := n.available()
		if err == nil {
			return nil
		}
		select {
		case <-changed:
		case <-n.closed:
			return n.available()
		case <-ctx.Done():
			return err
		}
	}
}

// Close drains the connection — subscriptions stop taking messages, those
// received are handled, pending publishes are flushed — then shuts the
// embedded server down and waits for it. When ctx ends before the drain
// completes, the connection is closed at once and Close returns ctx's
// error after the server has stopped. Close is idempotent.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		n.closing.Store(true)
		if n.metricReg != nil {
			_ = n.metricReg.Unregister()
		}
		n.closeErr = n.drain(ctx)
		if n.server != nil {
			n.server.shutdown()
		}
		n.logger.Info("NATS: closed")
	})
	return n.closeErr
}

// drain drains the connection until ctx ends, then closes it.
func (n *Node) drain(ctx context.Context) error {
	if err := n.nc.Drain(); err != nil {
		// Nothing to drain while reconnecting, or already closed.
		n.nc.Close()
		<-n.closed
		return nil
	}
	select {
	case <-n.closed:
		return nil
	case <-ctx.Done():
		n.nc.Close()
		<-n.closed
		return fmt.Errorf("natsnode: draining: %w", ctx.Err())
	}
}

// markDown records that the connection is down because of err; lost
// means it was up until now, which starts a new outage.
func (n *Node) markDown(err error, lost bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if lost || n.downSince.IsZero() {
		n.downSince = time.Now()
	}
	if err != nil {
		n.lastErr = err
	}
	n.notifyLocked()
}

// markUp records that the connection is up.
func (n *Node) markUp() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.downSince, n.lastErr = time.Time{}, nil
	n.notifyLocked()
}

// notifyLocked wakes WaitConnected's waiters; n.mu is held.
func (n *Node) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// errClosed is the cause recorded when the connection closes.
var errClosed = errors.New("closed")

// Replicas returns how many copies of each bucket Troupe creates should
// be kept: JetStreamConfig.Replicas when set, else, for an embedded
// cluster, one per node its routes name, at most 3 (a majority survives
// one lost node; more copies only slow writes), else 1.
func (n *Node) Replicas() int {
	if r := n.cfg.JetStream.Replicas; r > 0 {
		return r
	}
	if n.server == nil || !n.cfg.Cluster.enabled() {
		return 1
	}
	return min(3, n.cfg.Cluster.size())
}
