package realtime

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/troupehq/troupe/actors"
)

// connActor is a connection's address in the actor system: what
// Connected.Conn refers to, what rooms publish to. Its Receive only moves a
// message into the outbound queue (or asks a room for something), so its
// drain goroutine exists for microseconds per burst and an idle connection
// costs the runtime one parked process, no goroutine.
type connActor struct{ c *conn }

// Receive handles one message for the connection.
func (a *connActor) Receive(ctx *actors.Context, msg any) {
	c := a.c
	switch m := msg.(type) {
	case *Publication:
		c.enqueue(outbound{kind: frameText, data: m.frame(), pub: m})
	case *Presence:
		c.enqueue(text(m.encoded()))
	case string:
		c.enqueue(text([]byte(m)))
	case []byte:
		// A WASM component's send delivers []byte; JSON, the common case,
		// goes out as text, which browsers hand to scripts as a string.
		if utf8.Valid(m) {
			c.enqueue(text(m))
		} else {
			c.enqueue(outbound{kind: frameBinary, data: m})
		}
	case json.RawMessage:
		c.enqueue(text(m))
	case Binary:
		c.enqueue(outbound{kind: frameBinary, data: m})
	case Join:
		a.join(ctx, m)
	case Leave:
		if checkRoomName(m.Room, false) == nil {
			_ = c.hub.sendRoom(m.Room, &leaveRequest{conn: ctx.Self()})
		}
	case Close:
		c.enqueue(outbound{kind: frameClose, code: closeCode(m.Code), data: []byte(truncateReason(m.Reason))})
	case *joinedAck:
		c.joined(m)
	case *leftAck:
		c.mu.Lock()
		delete(c.rooms, m.room)
		c.mu.Unlock()
		c.enqueue(text(mustJSON(roomFrame{typeLeft, m.room})))
	case *membersReply:
		c.enqueue(text(mustJSON(membersFrame{typeMembers, m.room, m.members, m.total})))
	case actors.Started, actors.Stopping, actors.Restarting:
	case actors.Stopped:
		c.leaveAll()
	default:
		b, err := json.Marshal(m)
		if err != nil {
			ctx.Logger().Warn("realtime: a message for a connection is not JSON-encodable; dropped",
				"conn", c.id, "type", fmt.Sprintf("%T", m), "error", err)
			return
		}
		c.enqueue(text(b))
	}
}

// join asks room m.Room to take the connection, on the word of the actor
// that sent Join.
func (a *connActor) join(ctx *actors.Context, m Join) {
	c := a.c
	if err := checkRoomName(m.Room, false); err != nil {
		ctx.Logger().Warn("realtime: Join with an invalid room", "conn", c.id, "error", err)
		return
	}
	if err := c.hub.sendRoom(m.Room, &joinRequest{conn: ctx.Self(), member: c.member(), since: m.Since}); err != nil {
		c.enqueue(text(errorJSON(opJoin, m.Room, 503, "The room is not available.")))
	}
}

// joined relays a room's acknowledgement: the history the client missed,
// then the joined frame with the room's position.
func (c *conn) joined(m *joinedAck) {
	c.mu.Lock()
	if c.rooms == nil {
		c.rooms = make(map[string]struct{})
	}
	c.rooms[m.room] = struct{}{}
	c.mu.Unlock()
	for _, p := range m.history {
		c.enqueue(outbound{kind: frameText, data: p.frame(), pub: p})
	}
	c.enqueue(text(mustJSON(joinedFrame{typeJoined, m.room, m.seq, m.gap, m.members, m.total})))
}

// leaveAll leaves every room the connection is in, as its actor stops.
func (c *conn) leaveAll() {
	c.mu.Lock()
	rooms := c.rooms
	c.rooms = nil
	c.mu.Unlock()
	for room := range rooms {
		_ = c.hub.sendRoom(room, &leaveRequest{conn: c.ref})
	}
}

// member is the connection as a room's presence lists it.
func (c *conn) member() Member {
	m := Member{ID: c.id}
	if c.principal != nil {
		m.User = c.principal.Subject
	}
	return m
}

func text(b []byte) outbound { return outbound{kind: frameText, data: b} }

func errorJSON(op, room string, status int, detail string) []byte {
	return mustJSON(errorFrame{Type: typeError, Op: op, Room: room, Status: status, Detail: detail})
}

// closeCode returns code if an application may send it (RFC 6455 §7.4),
// else 1000.
func closeCode(code int) int {
	switch {
	case code == 1000, code >= 1007 && code <= 1014 && code != 1010, code >= 3000 && code <= 4999:
		return code
	}
	return closeNormal
}

// truncateReason keeps a close reason within the 123 bytes a close frame
// has room for, on a UTF-8 boundary.
func truncateReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	s = s[:123]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
