package realtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/resilience"
)

// conn is one client connection, whatever its transport. Three parties use
// it, none holding a goroutine while idle beyond the transport's reader:
//
//   - its actor (conn_actor.go), which the rest of the system addresses,
//     moves each message into the outbound queue and never blocks;
//   - a writer goroutine, started when the queue gains a message and gone
//     when it is empty again, which writes batches to the transport;
//   - the transport's reader goroutine (ws.go, sse.go), which the
//     WebSocket library needs anyway to answer pings and close frames, and
//     which ends the connection when the socket fails.
//
// The outbound queue is the connection's own rather than the actor's
// mailbox so that a full queue can be seen where it happens: the mailbox
// would drop silently, while here the slow-consumer policy applies and is
// counted.
type conn struct {
	hub       *Hub
	id        string // "ck7q2xa-42", see connIDPrefix
	ref       actors.Ref
	t         transport
	ep        *endpoint
	principal *principal.Principal
	key       string // the admission key
	params    map[string]string
	initial   []initialRoom // the endpoint's rooms, joined by start

	lastSeen *atomic.Int64 // hub.now() of the last inbound frame or pong; its own allocation, see upgradeWebSocket
	timer    *time.Timer   // the heartbeat

	mu      sync.Mutex
	queue   outQueue
	spare   []outbound // the writer's batch, reused
	writing bool       // a writer goroutine runs
	state   connState
	reason  string // why it closed: a closeReason label
	code    int    // the close code sent or received
	rooms   map[string]struct{}

	// Owned by the reader goroutine.
	bucket  resilience.Bucket
	permits map[string]permit
}

// initialRoom is a room an endpoint joins at connection, and the position
// the client resumes it from.
type initialRoom struct {
	room  string
	since *uint64
}

type connState uint8

const (
	connOpen    connState = iota
	connClosing           // a close is under way; nothing more is queued
	connClosed
)

// frameKind is what an outbound item is.
type frameKind uint8

const (
	frameText frameKind = iota
	frameBinary
	frameClose // close the connection after what precedes it
	framePing  // SSE: a comment that keeps the stream alive
)

// outbound is one item of the outbound queue.
type outbound struct {
	kind frameKind
	data []byte
	pub  *Publication  // set for room messages: their position, and the time they were published
	at   time.Duration // hub.now() when queued, for the delivery latency of other items
	code int           // frameClose
}

// touch records inbound activity, which keeps the heartbeat from closing the
// connection.
func (c *conn) touch() { c.lastSeen.Store(int64(c.hub.now())) }

// enqueue queues o for the writer under the slow-consumer policy, starting
// the writer if it is idle. It never blocks: it runs in the connection's
// actor, and in the actor of every room that publishes to it.
func (c *conn) enqueue(o outbound) {
	o.at = c.hub.now()
	c.mu.Lock()
	if c.state != connOpen {
		c.mu.Unlock()
		return
	}
	if o.kind == frameClose {
		c.state = connClosing
		c.reason = reasonServerClosed
	} else if c.queue.len() >= c.hub.cfg.OutboundQueue {
		c.hub.stats.drops.Add(1)
		if c.hub.cfg.SlowConsumer == Disconnect {
			c.state = connClosing
			c.reason, c.code = reasonSlowConsumer, closeTryAgainLater
			c.mu.Unlock()
			// The writer is stuck behind a client that does not read; the
			// close frame may have to wait for it, so not here.
			go c.t.close(closeTryAgainLater, "slow consumer: reconnect and resume")
			return
		}
		c.queue.pop() // DropOldest
	}
	c.queue.push(o)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// writeLoop writes queued batches until the queue is empty or the
// connection fails.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		batch := c.queue.drain(c.spare[:0])
		c.spare = nil
		if len(batch) == 0 || c.state == connClosed {
			c.writing = false
			c.queue.release()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		n, err := c.t.write(batch)
		c.hub.delivered(batch[:n])
		clear(batch)
		if err != nil {
			c.markClosed(reasonWriteError, 0)
			c.t.abort()
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		if cap(batch) <= maxSpare {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}

// maxSpare bounds the batch slice a connection keeps between batches, so a
// burst does not leave every connection holding a large one.
const maxSpare = 64

// beginClose moves an open connection to closing for reason and reports
// whether it was open: only the first closer sends a close frame.
func (c *conn) beginClose(reason string, code int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != connOpen {
		return false
	}
	c.state = connClosing
	c.reason, c.code = reason, code
	return true
}

// markClosed records reason unless an earlier closer gave one.
func (c *conn) markClosed(reason string, code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason == "" {
		c.reason, c.code = reason, code
	}
}

// closeWith closes the connection from its reader goroutine, which is free
// to wait for the close handshake.
func (c *conn) closeWith(reason string, code int, text string) {
	if c.beginClose(reason, code) {
		c.t.close(code, text)
	}
}

// heartbeat runs from the connection's timer every PingInterval: it closes
// a WebSocket connection silent for IdleTimeout, pings one quiet for
// PingInterval, and keeps an SSE stream alive with a comment.
func (c *conn) heartbeat() {
	cfg := c.hub.cfg
	quiet := c.hub.now() - time.Duration(c.lastSeen.Load())
	if c.t.needsPong() {
		if quiet >= cfg.IdleTimeout {
			c.markClosed(reasonIdleTimeout, 0)
			c.t.abort()
			return
		}
		if quiet >= cfg.PingInterval-cfg.PingInterval/8 {
			if err := c.t.ping(cfg.IdleTimeout - quiet); err != nil {
				c.markClosed(reasonIdleTimeout, 0)
				c.t.abort()
				return
			}
		}
	} else {
		c.enqueue(outbound{kind: framePing})
	}
	c.mu.Lock()
	if c.state == connOpen { // under mu: finish stops the timer after closing
		c.timer.Reset(cfg.PingInterval)
	}
	c.mu.Unlock()
}

// finish ends the connection once its reader has returned: it stops the
// heartbeat, counts the close, tells the handler actor, stops the actor
// (whose last act is leaving its rooms) and gives back the admission slot.
func (c *conn) finish() {
	c.mu.Lock()
	c.state = connClosed
	reason, code := c.reason, c.code
	c.queue.clear()
	c.mu.Unlock()
	c.timer.Stop()
	c.t.release()
	if reason == "" {
		reason = reasonClientGone
	}
	if code == 0 {
		code = closeAbnormal
	}
	c.hub.stats.closed(c.t.kind(), reason)
	if c.ep.handler != "" {
		c.notify(&Disconnected{Conn: c.ref, ID: c.id, Principal: c.principal, Code: code, Reason: reason})
	}
	_ = c.hub.sys.Stop(c.ref)
	// Last: once the slot is released, Shutdown may return.
	c.hub.remove(c)
	c.hub.release(c.key)
}

// notify sends msg to the endpoint's handler actor, looked up by name each
// time so that a handler restarted under its name is found.
func (c *conn) notify(msg any) {
	ref, err := c.hub.sys.Lookup(c.ep.handler)
	if err == nil {
		err = c.hub.sys.Send(ref, msg)
	}
	if err != nil {
		c.hub.log.Warn("realtime: the handler actor did not get a message",
			"handler", c.ep.handler, "conn", c.id, "error", err)
	}
}
