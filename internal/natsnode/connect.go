package natsnode

import (
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Reconnect backoff: the first retry comes after 50–100 ms, each further
// round through the server list waits twice as long, up to 2.5–5 s. The
// cap bounds how long a service stays unready after NATS is back (5 s);
// the jitter (a random half of each wait) spreads the reconnects of many
// nodes after a NATS restart.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 5 * time.Second
)

// Liveness of an external connection: a server that stops answering
// (a partition, a frozen VM) is noticed after 2 unanswered pings 10 s
// apart, 20–30 s, instead of nats.go's default of 4 minutes.
const (
	pingInterval   = 10 * time.Second
	maxPingsOutAll = 2
)

// reconnectDelay is the wait before the attempt-th round of reconnects
// (counting from 1).
func reconnectDelay(attempt int) time.Duration {
	d := reconnectMax
	if attempt < 16 {
		d = min(reconnectMin<<(attempt-1), reconnectMax)
	}
	return d/2 + rand.N(d/2+1)
}

// clientOptions returns the connection's options: reconnect forever with
// backoff (the first connect too), no buffering while disconnected,
// credentials and TLS, and the handlers that track its state.
func (n *Node) clientOptions() ([]nats.Option, error) {
	c := n.cfg
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(reconnectDelay),
		// Senders fail fast with an error IsUnavailable recognises instead
		// of queueing up to 8 MiB that a process crash would lose.
		nats.ReconnectBufSize(-1),
		// nats.go gives up for good after the same authorization error
		// twice; credentials fixed on the server side should be picked up
		// without a restart.
		nats.IgnoreAuthErrorAbort(),
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(maxPingsOutAll),
		nats.ConnectHandler(n.onConnect),
		nats.ReconnectHandler(n.onReconnect),
		nats.DisconnectErrHandler(n.onDisconnect),
		nats.ReconnectErrHandler(n.onReconnectError),
		nats.ClosedHandler(n.onClosed),
		nats.ErrorHandler(n.onAsyncError),
	}
	if c.embedded() {
		return opts, nil
	}
	cred, err := c.credentials()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		opts = append(opts, cred)
	}
	tlsConfig, err := c.TLS.load(c.requiresTLS())
	if err != nil {
		return nil, err
	}
	if tlsConfig != nil {
		opts = append(opts, nats.Secure(tlsConfig))
	}
	return opts, nil
}

// onConnect runs when the first connect succeeds, at once or after failed
// attempts (RetryOnFailedConnect). Which server an external node reached
// is worth a line; the in-process connection is not.
func (n *Node) onConnect(nc *nats.Conn) {
	n.markUp()
	if n.server == nil {
		n.logger.Info("NATS: connected", "server", nc.ConnectedUrlRedacted())
	}
}

func (n *Node) onReconnect(nc *nats.Conn) {
	n.mu.Lock()
	down := time.Since(n.downSince)
	n.mu.Unlock()
	n.markUp()
	n.logger.Info("NATS: reconnected", "server", nc.ConnectedUrlRedacted(), "down_for", down.Round(time.Millisecond))
}

func (n *Node) onDisconnect(_ *nats.Conn, err error) {
	if err == nil {
		err = errors.New("connection lost")
	}
	n.markDown(err, true)
	if n.closing.Load() {
		return
	}
	n.logger.Warn("NATS: disconnected; reconnecting", "error", err)
}

// onReconnectError records why an attempt failed, for Check's message. It
// logs at debug: an attempt fails every few seconds while NATS is down.
func (n *Node) onReconnectError(_ *nats.Conn, err error) {
	n.markDown(err, false)
	n.logger.Debug("NATS: reconnect attempt failed", "error", err)
}

func (n *Node) onClosed(*nats.Conn) {
	n.markDown(errClosed, false)
	close(n.closed)
}

// onAsyncError counts and logs errors that reach no caller: a slow
// consumer dropping messages, a permission violation.
func (n *Node) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	kind := asyncErrorKind(err)
	n.metrics.asyncError(kind)
	attrs := []any{"error", err, "kind", kind}
	if sub != nil {
		attrs = append(attrs, "subject", sub.Subject)
	}
	n.logger.Warn("NATS: asynchronous error", attrs...)
}

// asyncErrorKind is the troupe.nats.error label of an asynchronous error.
func asyncErrorKind(err error) string {
	switch {
	case errors.Is(err, nats.ErrSlowConsumer):
		return "slow_consumer"
	case errors.Is(err, nats.ErrPermissionViolation):
		return "permission"
	}
	return "other"
}

// redactURLs returns a comma-separated URL list without credentials.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = redactURL(u)
		} else {
			parts[i] = "(not a URL)"
		}
	}
	return strings.Join(parts, ",")
}

// redactURL returns u without its user information: a token may sit where
// the user name goes (nats://token@host), which url.URL.Redacted shows.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	return c.String()
}
