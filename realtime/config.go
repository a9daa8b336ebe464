package realtime

import (
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Config holds the limits of one Hub: one process's realtime connections.
// Start from DefaultConfig and change what differs; Validate reports a
// config as written. Its fields are the keys of a service's [realtime]
// section (max_connections is MaxConnections, and so on).
type Config struct {
	// MaxConnections bounds the open connections of the process, WebSocket
	// and SSE together. An upgrade past it is refused with 503 and
	// Retry-After before the handshake, and readiness fails while the hub
	// is full, so a load balancer sends new clients to other instances.
	MaxConnections int
	// MaxConnectionsPerPrincipal bounds the connections of one
	// authenticated principal (its subject), or of one client IP for
	// anonymous connections. An upgrade past it is refused with 429.
	MaxConnectionsPerPrincipal int
	// MaxMessageSize bounds one inbound message, in bytes. A larger one
	// closes the connection with 1009 (message too big).
	MaxMessageSize int64
	// InboundRate is the messages per second one connection may send, with
	// bursts of as many (GCRA, resilience.Bucket). A connection past it is
	// closed with 1008 (policy violation): see the package documentation
	// for why it is closed rather than throttled.
	InboundRate int
	// OutboundQueue bounds the messages waiting to be written to one
	// connection. A queue that would grow past it is a slow consumer, and
	// SlowConsumer says what happens.
	OutboundQueue int
	// SlowConsumer is the policy for a full outbound queue.
	SlowConsumer SlowConsumerPolicy
	// PingInterval is how long a connection may be quiet before the server
	// checks it: a WebSocket ping (which the peer must answer with a pong),
	// or an SSE comment line that keeps proxies from closing the stream.
	PingInterval time.Duration
	// IdleTimeout closes a WebSocket connection from which nothing — no
	// message, no pong — has arrived for this long, and any connection whose
	// writes make no progress for this long (TCP_USER_TIMEOUT on Linux).
	// It must exceed PingInterval, so a live peer always has a ping to
	// answer before it runs out.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds Shutdown: connections get a close frame 1001
	// (going away) with a reconnect hint at once, and those still open
	// after ShutdownTimeout are closed without one.
	ShutdownTimeout time.Duration
	// Compression lets a client negotiate permessage-deflate (RFC 7692),
	// without context takeover: a compressor keeping its window across
	// messages costs tens of kilobytes per connection, more than the
	// connection itself. Off by default: most realtime messages are small,
	// and compressing them costs CPU for little.
	Compression bool
}

// DefaultConfig returns the defaults of the [realtime] keys: 10,000
// connections, 32 per principal, 64 KiB messages, 50 messages/s inbound,
// 256 queued outbound with disconnect for slow consumers, a ping after 25 s
// of quiet and a close after 60 s of silence, 10 s to shut down, no
// compression.
//
// 25 s keeps a quiet connection under the 60 s idle timeout of the usual
// load balancers and proxies (AWS ALB, nginx's proxy_read_timeout).
func DefaultConfig() Config {
	return Config{
		MaxConnections:             10_000,
		MaxConnectionsPerPrincipal: 32,
		MaxMessageSize:             64 << 10,
		InboundRate:                50,
		OutboundQueue:              256,
		SlowConsumer:               Disconnect,
		PingInterval:               25 * time.Second,
		IdleTimeout:                60 * time.Second,
		ShutdownTimeout:            10 * time.Second,
	}
}

// Limits on the values of Config, beyond which a setting is a mistake.
const (
	// minMessageSize leaves room for a protocol operation naming a room.
	minMessageSize = 256
	// maxMessageSize is WebSocket's realistic ceiling: a message is read
	// whole into memory, so a larger bound is a memory bound per connection.
	maxMessageSize = 64 << 20
	// maxOutboundQueue bounds the queue, hence the memory a slow consumer
	// may hold.
	maxOutboundQueue = 1 << 16
)

// Validate reports every problem of c as written, each a *fielderr.Error
// naming the field: a limit under one, a per-principal limit over the
// process's, a message size outside 256 B–64 MiB, an outbound queue over
// 65,536, an unknown slow-consumer policy, a duration that is not positive,
// or an idle timeout not longer than the ping interval.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fielderr.New(field, format, args...))
	}
	if c.MaxConnections < 1 {
		add("MaxConnections", "must be at least 1, got %d", c.MaxConnections)
	}
	switch {
	case c.MaxConnectionsPerPrincipal < 1:
		add("MaxConnectionsPerPrincipal", "must be at least 1, got %d", c.MaxConnectionsPerPrincipal)
	case c.MaxConnections >= 1 && c.MaxConnectionsPerPrincipal > c.MaxConnections:
		add("MaxConnectionsPerPrincipal", "must not exceed MaxConnections (%d), got %d", c.MaxConnections, c.MaxConnectionsPerPrincipal)
	}
	if c.MaxMessageSize < minMessageSize || c.MaxMessageSize > maxMessageSize {
		add("MaxMessageSize", "must be between %d bytes and %d MiB, got %d", minMessageSize, maxMessageSize>>20, c.MaxMessageSize)
	}
	if c.InboundRate < 1 {
		add("InboundRate", "must be at least 1 message per second, got %d", c.InboundRate)
	}
	if c.OutboundQueue < 1 || c.OutboundQueue > maxOutboundQueue {
		add("OutboundQueue", "must be between 1 and %d messages, got %d", maxOutboundQueue, c.OutboundQueue)
	}
	if _, err := c.SlowConsumer.MarshalText(); err != nil {
		add("SlowConsumer", "%v", err)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"PingInterval", c.PingInterval}, {"IdleTimeout", c.IdleTimeout}, {"ShutdownTimeout", c.ShutdownTimeout}} {
		if d.v <= 0 {
			add(d.field, "must be positive, got %s", d.v)
		}
	}
	if c.PingInterval > 0 && c.IdleTimeout > 0 && c.IdleTimeout <= c.PingInterval {
		add("IdleTimeout", "must be longer than PingInterval (%s), got %s", c.PingInterval, c.IdleTimeout)
	}
	return errors.Join(errs...)
}

// SlowConsumerPolicy says what a connection whose outbound queue is full
// does with one more message.
type SlowConsumerPolicy uint8

const (
	// Disconnect closes the connection with 1013 (try again later). The
	// client reconnects and resumes from the room's history, so it misses
	// nothing the history still holds, and a consumer that cannot keep up
	// stops costing memory at once. It is the default.
	Disconnect SlowConsumerPolicy = iota
	// DropOldest discards the oldest queued message to make room, so the
	// client stays connected and sees the newest state: right for feeds
	// where only the latest value matters (prices, positions).
	DropOldest
)

var slowConsumerNames = [...]string{Disconnect: "disconnect", DropOldest: "drop_oldest"}

// String returns the policy's name in configuration: "disconnect" or
// "drop_oldest".
func (p SlowConsumerPolicy) String() string {
	if int(p) < len(slowConsumerNames) {
		return slowConsumerNames[p]
	}
	return fmt.Sprintf("SlowConsumerPolicy(%d)", uint8(p))
}

// MarshalText encodes the policy's name; an unknown policy is an error.
func (p SlowConsumerPolicy) MarshalText() ([]byte, error) {
	if int(p) >= len(slowConsumerNames) {
		return nil, fmt.Errorf("unknown slow-consumer policy %d", uint8(p))
	}
	return []byte(slowConsumerNames[p]), nil
}

// UnmarshalText decodes "disconnect" or "drop_oldest", so a config field
// of this type is checked when it is decoded.
func (p *SlowConsumerPolicy) UnmarshalText(text []byte) error {
	for i, n := range slowConsumerNames {
		if string(text) == n {
			*p = SlowConsumerPolicy(i)
			return nil
		}
	}
	return fmt.Errorf("unknown slow-consumer policy %q (want disconnect or drop_oldest)", text)
}
