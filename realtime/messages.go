package realtime

import (
	"encoding/json"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/principal"
)

// The messages an endpoint's handler actor receives, in this order for one
// connection: Connected, any number of Received, Disconnected.

// Connected tells the handler actor that a connection has opened.
type Connected struct {
	// Conn addresses the connection: send it a string, []byte,
	// json.RawMessage, Binary, Join, Leave or Close, or any value, which
	// is sent as JSON.
	Conn actors.Ref
	// ID identifies the connection in presence lists and logs ("ck7q2xa-42").
	ID string
	// Principal is the authenticated party, nil when anonymous.
	Principal *principal.Principal
	// Params holds the route's path parameters.
	Params map[string]string
	// Rooms are the rooms the connection joined when it opened.
	Rooms []string
	// Transport is "websocket" or "sse".
	Transport string
}

// Received is one data message from a client that is not a protocol
// operation (see the package documentation), for the handler actor.
type Received struct {
	Conn      actors.Ref
	ID        string
	Principal *principal.Principal
	// Data is the message; it belongs to the receiver.
	Data []byte
	// Binary is true for a binary message, false for text (valid UTF-8).
	Binary bool
}

// Disconnected tells the handler actor that a connection has closed.
type Disconnected struct {
	Conn      actors.Ref
	ID        string
	Principal *principal.Principal
	// Code is the WebSocket close code (1000 normal, 1001 going away,
	// 1006 when the connection was lost without one); SSE connections
	// report 1000 for a departed client and the server's code otherwise.
	Code int
	// Reason is the close reason label, as in the metric
	// troupe.realtime.closes ("client_closed", "idle_timeout", ...).
	Reason string
}

// Messages a connection's Ref accepts, besides a string (a text message),
// []byte (text when valid UTF-8, else binary) and json.RawMessage.

// Binary is sent as a binary message whatever its content. SSE, which
// carries only text, sends it base64-encoded in an event named "binary".
type Binary []byte

// Join makes the connection join a room without asking the authorizer: the
// actor that sends it has decided. Since, when set, replays the room's
// history after that position first.
type Join struct {
	Room  string
	Since *uint64
}

// Leave makes the connection leave a room.
type Leave struct{ Room string }

// Close closes the connection with a WebSocket close code (4000–4999 for an
// application's own reasons, or 1000 normal, 1008 policy violation) and a
// short reason. Messages queued before it are written first.
type Close struct {
	Code   int
	Reason string
}

// Publication is one message of a room, as the room's subject carries it to
// every subscribed connection (and, with the cluster, to other nodes). Its
// fields are exported and JSON-encodable so that it can cross a process
// boundary.
type Publication struct {
	// Room is the room's name.
	Room string `json:"room"`
	// Seq is the message's position in the room, from 1, for resuming.
	Seq uint64 `json:"seq"`
	// Time is when the room accepted it.
	Time time.Time `json:"time"`
	// Sender is the publishing principal's subject, "" for the server.
	Sender string `json:"sender,omitempty"`
	// Data is the message, a JSON value.
	Data json.RawMessage `json:"data"`

	frames encodedFrames
}

// Presence is a batch of a room's membership changes, published on the
// room's subject to its members when the room tracks presence. Changes are
// gathered for presenceBatch and sent together, so a thousand clients
// joining in a second cost each member ten messages, not a thousand.
type Presence struct {
	Room   string   `json:"room"`
	Joins  []Member `json:"joins,omitempty"`
	Leaves []Member `json:"leaves,omitempty"`

	frame encodedFrames
}

// Member is one connection in a room's presence list.
type Member struct {
	// ID is the connection's ID.
	ID string `json:"id"`
	// User is the principal's subject, "" when anonymous.
	User string `json:"user,omitempty"`
}
