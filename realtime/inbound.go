package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// permit caches the authorizer's answers for one room on one connection:
// a chat client publishes many messages to the room it is in, and asking
// the policies each time would cost more than delivering the message.
// Policies reloaded later apply to new connections.
type permit struct {
	joinDecided, join       bool
	publishDecided, publish bool
}

// authorizeTimeout bounds one authorizer call from a connection; the
// authorizer may load entities from a store.
const authorizeTimeout = 5 * time.Second

// inbound handles one data message, on the reader goroutine: a protocol
// operation, a message to publish, or one for the handler actor. A
// non-zero code means the connection must close with it, for reason.
func (c *conn) inbound(data []byte, binary bool) (code int, reason string) {
	if !binary && !c.ep.raw {
		if op, ok := parseOp(data); ok {
			c.operation(op)
			return 0, ""
		}
	}
	switch {
	case c.ep.publishInbound && !binary:
		room := c.ep.publishRoom(c.params)
		if !json.Valid(data) {
			c.enqueue(text(errorJSON(opPublish, room, http.StatusBadRequest, "Messages must be JSON.")))
			return 0, ""
		}
		c.publish(room, bytes.Clone(data))
	case c.ep.handler != "":
		c.notify(&Received{Conn: c.ref, ID: c.id, Principal: c.principal, Data: data, Binary: binary})
	default:
		return closeUnsupported, reasonUnsupported
	}
	return 0, ""
}

// operation carries out a client's protocol operation, answering a failure
// with an error message rather than closing: a refused join is the
// client's to handle.
func (c *conn) operation(op clientOp) {
	fail := func(status int, detail string) {
		c.enqueue(text(errorJSON(op.Op, op.Room, status, detail)))
	}
	if op.Op == opPing {
		c.enqueue(text(pongFrame))
		return
	}
	if op.Op != opJoin && op.Op != opLeave && op.Op != opPublish && op.Op != opPresence {
		fail(http.StatusBadRequest, `Unknown operation; want join, leave, publish, presence or ping.`)
		return
	}
	if err := checkRoomName(op.Room, false); err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	var err error
	switch op.Op {
	case opJoin:
		if !c.allowed(opJoin, op.Room) {
			fail(http.StatusForbidden, "You may not join this room.")
			return
		}
		err = c.hub.sendRoom(op.Room, &joinRequest{conn: c.ref, member: c.member(), since: op.Since})
	case opLeave:
		err = c.hub.sendRoom(op.Room, &leaveRequest{conn: c.ref})
	case opPublish:
		if len(op.Data) == 0 {
			fail(http.StatusBadRequest, `A publish operation needs "data".`)
			return
		}
		c.publish(op.Room, op.Data)
		return
	case opPresence:
		if !c.hub.roomConfig(op.Room).Presence {
			fail(http.StatusNotFound, "This room does not track presence.")
			return
		}
		if !c.allowed(opJoin, op.Room) {
			fail(http.StatusForbidden, "You may not see this room's members.")
			return
		}
		err = c.hub.sendRoom(op.Room, &membersRequest{conn: c.ref})
	}
	if err != nil {
		fail(http.StatusServiceUnavailable, "The room is not available.")
	}
}

// publish publishes data to room for the connection's principal, if the
// authorizer lets it.
func (c *conn) publish(room string, data json.RawMessage) {
	if !c.allowed(opPublish, room) {
		c.enqueue(text(errorJSON(opPublish, room, http.StatusForbidden, "You may not publish to this room.")))
		return
	}
	if err := c.hub.sendRoom(room, &publishRequest{sender: c.member().User, data: data}); err != nil {
		c.enqueue(text(errorJSON(opPublish, room, http.StatusServiceUnavailable, "The room is not available.")))
	}
}

// allowed asks the hub's authorizer whether the connection's principal may
// do action on room, once per room and action.
func (c *conn) allowed(action, room string) bool {
	return c.allowedCtx(bg, action, room)
}

// allowedCtx is allowed within ctx: the handshake's request context for the
// rooms an endpoint joins at connection.
func (c *conn) allowedCtx(ctx context.Context, action, room string) bool {
	if c.hub.authorize == nil {
		return true
	}
	p := c.permits[room]
	decided, ok := &p.joinDecided, &p.join
	if action == opPublish {
		decided, ok = &p.publishDecided, &p.publish
	}
	if !*decided {
		ctx, cancel := context.WithTimeout(ctx, authorizeTimeout)
		err := c.hub.authorize(ctx, c.principal, action, room)
		cancel()
		*decided, *ok = true, err == nil
		if err != nil {
			c.hub.log.Info("realtime: operation refused", "conn", c.id, "action", action, "room", room, "error", err)
		}
		if c.permits == nil {
			c.permits = make(map[string]permit)
		}
		c.permits[room] = p
	}
	return *ok
}
