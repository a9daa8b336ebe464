package realtime

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// transport is how a conn reaches its client: a WebSocket or an SSE
// stream.
type transport interface {
	// kind is transportWebSocket or transportSSE.
	kind() int
	// write writes batch in order and returns how many items it wrote. Only
	// the connection's writer goroutine calls it.
	write(batch []outbound) (int, error)
	// close sends a close (a WebSocket close frame, an SSE close event)
	// and closes, waiting at most closeGrace for the peer.
	close(code int, reason string)
	// goAway is close at shutdown, preceded by a reconnect hint.
	goAway(delay time.Duration)
	// abort closes the socket at once.
	abort()
	// release frees what the transport holds once the connection has
	// ended; the reader goroutine calls it last.
	release()
	// needsPong reports whether the heartbeat pings and expects answers;
	// otherwise it queues a keep-alive (framePing).
	needsPong() bool
	// ping pings the peer and waits at most d for the answer.
	ping(d time.Duration) error
}

// closeGrace bounds a close handshake: how long the server waits for a
// client to answer its close frame before closing the socket anyway.
const closeGrace = 2 * time.Second

// wsTransport is a WebSocket connection on coder/websocket.
type wsTransport struct {
	ws   *websocket.Conn
	nc   net.Conn // the hijacked socket, for deadlines and aborts
	idle time.Duration
}

func (t *wsTransport) kind() int       { return transportWebSocket }
func (t *wsTransport) needsPong() bool { return true }

// write sends batch under one write deadline of IdleTimeout: a client
// whose socket takes no bytes for that long has stopped reading, and the
// failed write ends its connection.
func (t *wsTransport) write(batch []outbound) (int, error) {
	_ = t.nc.SetWriteDeadline(time.Now().Add(t.idle))
	defer func() { _ = t.nc.SetWriteDeadline(time.Time{}) }()
	for i, o := range batch {
		var err error
		switch o.kind {
		case frameText:
			err = t.ws.Write(bg, websocket.MessageText, o.data)
		case frameBinary:
			err = t.ws.Write(bg, websocket.MessageBinary, o.data)
		case frameClose:
			t.close(o.code, string(o.data))
			return i, errClosedByServer
		}
		if err != nil {
			return i, err
		}
	}
	return len(batch), nil
}

// errClosedByServer ends a writer after a Close it was asked to send.
var errClosedByServer = errors.New("realtime: closed by the server")

func (t *wsTransport) close(code int, reason string) {
	_ = t.nc.SetDeadline(time.Now().Add(closeGrace))
	_ = t.ws.Close(websocket.StatusCode(code), reason)
}

func (t *wsTransport) goAway(delay time.Duration) {
	_ = t.nc.SetDeadline(time.Now().Add(closeGrace))
	_ = t.ws.Write(bg, websocket.MessageText, mustJSON(reconnectFrame{typeReconnect, delay.Milliseconds()}))
	_ = t.ws.Close(websocket.StatusGoingAway, "server shutting down; reconnect")
}

// abort closes the socket itself rather than through the library, whose
// CloseNow waits for a close handshake another goroutine may have begun.
func (t *wsTransport) abort() { _ = t.nc.Close() }

// release closes the connection through the library once the socket is
// closed, which returns at once. It matters: the library's Conn has a
// finalizer and points to itself (its reader and writer point back to it),
// and a cycle through an object with a finalizer is never collected — only
// the library's own close clears the finalizer. A connection aborted on
// the socket alone would leak some 5 KB.
func (t *wsTransport) release() {
	t.abort()
	_ = t.ws.CloseNow()
}

func (t *wsTransport) ping(d time.Duration) error {
	ctx, cancel := context.WithTimeout(bg, d)
	defer cancel()
	return t.ws.Ping(ctx)
}

// readLoop is the connection's reader goroutine: the one goroutine an idle
// WebSocket needs, because coder/websocket answers pings and close frames
// only while someone reads. Each message is checked against the inbound
// rate and UTF-8, then handed to inbound; the loop ends the connection
// when reading fails for any reason.
func (t *wsTransport) readLoop(c *conn) {
	defer c.finish()
	for {
		typ, data, err := t.ws.Read(bg)
		if err != nil {
			t.readFailed(c, err)
			return
		}
		c.touch()
		c.hub.stats.received(len(data))
		if res, _ := c.bucket.Allow(c.hub.now(), c.hub.inbound, 1); !res.Allowed {
			c.closeWith(reasonRateLimited, closePolicy, "message rate limit exceeded")
			return
		}
		if typ == websocket.MessageText && !utf8.Valid(data) {
			c.closeWith(reasonInvalidUTF8, closeInvalidData, "text message is not valid UTF-8")
			return
		}
		if code, reason := c.inbound(data, typ == websocket.MessageBinary); code != 0 {
			c.closeWith(reason, code, "this endpoint does not accept such messages")
			return
		}
	}
}

// readFailed records why reading ended.
func (t *wsTransport) readFailed(c *conn, err error) {
	switch status := websocket.CloseStatus(err); {
	case status != -1:
		c.markClosed(reasonClientClosed, int(status))
	case errors.Is(err, websocket.ErrMessageTooBig):
		// The library has sent 1009; the rest of the message is unread.
		c.markClosed(reasonTooBig, closeTooBig)
		t.linger()
	default:
		c.markClosed(reasonClientGone, closeAbnormal)
	}
}

// linger reads and discards what the client still sends, for at most
// closeGrace, before the socket is closed. Closing a socket with unread
// data makes the kernel send a reset, which can destroy the close frame
// just sent before the client reads it.
func (t *wsTransport) linger() {
	_ = t.nc.SetReadDeadline(time.Now().Add(closeGrace))
	_, _ = io.Copy(io.Discard, io.LimitReader(t.nc, maxLinger))
}

// maxLinger bounds what linger reads: a client still sending at full speed
// is not waiting for a close frame.
const maxLinger = 1 << 20
