package realtime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sseTransport is a Server-Sent Events stream on a hijacked HTTP/1.1
// connection. The response header goes out through net/http, with the
// chain's fields (request ID, CORS, security headers) and
// Transfer-Encoding: identity, which makes net/http send a body delimited
// by the connection's close rather than chunked — what the SSE
// specification recommends, and what lets events be written to the socket
// as they are once the connection is hijacked. Hijacking frees the HTTP
// handler's goroutine, its deadlines and the request's place in the chain
// (timeout, bulkhead) for the life of the stream.
type sseTransport struct {
	nc   net.Conn
	idle time.Duration

	// Owned by the writer goroutine.
	positions map[string]uint64 // the last position written per room, for id
	buf       []byte
}

func (t *sseTransport) kind() int                { return transportSSE }
func (t *sseTransport) needsPong() bool          { return false }
func (t *sseTransport) ping(time.Duration) error { return nil }
func (t *sseTransport) abort()                   { _ = t.nc.Close() }
func (t *sseTransport) release()                 { t.abort() }

// maxSSEBuffer bounds the scratch buffer a stream keeps between batches.
const maxSSEBuffer = 4 << 10

// write encodes batch as events and sends them in one write.
func (t *sseTransport) write(batch []outbound) (int, error) {
	b := t.buf[:0]
	n := len(batch)
	var closing *outbound
	for i := range batch {
		if batch[i].kind == frameClose {
			closing, n = &batch[i], i
			break
		}
		b = t.appendEvent(b, &batch[i])
	}
	_ = t.nc.SetWriteDeadline(time.Now().Add(t.idle))
	_, err := t.nc.Write(b)
	if cap(b) <= maxSSEBuffer {
		t.buf = b[:0]
	} else {
		t.buf = nil
	}
	if err != nil {
		return 0, err
	}
	if closing != nil {
		t.close(closing.code, string(closing.data))
		return n, errClosedByServer
	}
	return n, nil
}

// appendEvent appends o as one event: a room message with its id (every
// room's position, so the browser's Last-Event-ID resumes them all), text
// as data lines, binary base64-encoded in an event named "binary", a
// keep-alive as a comment.
func (t *sseTransport) appendEvent(b []byte, o *outbound) []byte {
	switch o.kind {
	case framePing:
		return append(b, ": ping\n\n"...)
	case frameBinary:
		b = append(b, "event: binary\ndata: "...)
		b = base64.StdEncoding.AppendEncode(b, o.data)
		return append(b, "\n\n"...)
	}
	if p := o.pub; p != nil {
		if t.positions == nil {
			t.positions = make(map[string]uint64)
		}
		t.positions[p.Room] = p.Seq
		b = append(b, "id: "...)
		b = appendPositions(b, t.positions)
		b = append(b, '\n')
	}
	for line := range bytes.SplitSeq(o.data, []byte{'\n'}) {
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte{'\r'})...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// appendPositions appends positions as "room:seq,room:seq" in room order.
func appendPositions(b []byte, positions map[string]uint64) []byte {
	rooms := make([]string, 0, len(positions))
	for r := range positions {
		rooms = append(rooms, r)
	}
	slices.Sort(rooms)
	for i, r := range rooms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
		b = append(b, ':')
		b = strconv.AppendUint(b, positions[r], 10)
	}
	return b
}

// parsePositions reads "room:seq,room:seq" — an SSE Last-Event-ID, or the
// since query parameter of either transport.
func parsePositions(s string) (map[string]uint64, error) {
	out := make(map[string]uint64)
	for part := range strings.SplitSeq(s, ",") {
		room, seq, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.ParseUint(seq, 10, 64)
		if !ok || err != nil || checkRoomName(room, false) != nil {
			return nil, errors.New(`a position is "room:seq", with positions separated by ","`)
		}
		out[room] = n
	}
	return out, nil
}

// close sends a "close" event with the code and reason, then closes: SSE
// has no close handshake.
func (t *sseTransport) close(code int, reason string) {
	_ = t.nc.SetWriteDeadline(time.Now().Add(closeGrace))
	ev := "event: close\ndata: " + string(mustJSON(struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}{code, reason})) + "\n\n"
	_, _ = io.WriteString(t.nc, ev)
	t.abort()
}

// goAway tells the browser when to reconnect — the retry field, which
// EventSource obeys — and sends the reconnect event the JS client reads.
func (t *sseTransport) goAway(delay time.Duration) {
	_ = t.nc.SetWriteDeadline(time.Now().Add(closeGrace))
	ms := delay.Milliseconds()
	ev := "retry: " + strconv.FormatInt(ms, 10) + "\nevent: reconnect\ndata: " +
		string(mustJSON(reconnectFrame{typeReconnect, ms})) + "\n\n"
	_, _ = io.WriteString(t.nc, ev)
	t.abort()
}

// readLoop waits for the client to go: an SSE client sends nothing, so a
// read returns only when the socket ends. Without it a departed client
// would be noticed only when a write failed.
func (t *sseTransport) readLoop(c *conn) {
	defer c.finish()
	var b [64]byte
	for {
		if _, err := t.nc.Read(b[:]); err != nil {
			if errors.Is(err, io.EOF) {
				c.markClosed(reasonClientClosed, closeNormal)
			} else {
				c.markClosed(reasonClientGone, closeAbnormal)
			}
			return
		}
	}
}
