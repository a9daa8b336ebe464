package realtime

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"
)

// The wire protocol: JSON text messages, described in the package
// documentation. Server messages carry "type", client operations "op".

// Server message types.
const (
	typeMessage   = "message"
	typeJoined    = "joined"
	typeLeft      = "left"
	typePresence  = "presence"
	typeMembers   = "members"
	typeError     = "error"
	typePong      = "pong"
	typeReconnect = "reconnect"
)

// Client operations.
const (
	opJoin     = "join"
	opLeave    = "leave"
	opPublish  = "publish"
	opPresence = "presence"
	opPing     = "ping"
)

// clientOp is a client's protocol operation.
type clientOp struct {
	Op    string          `json:"op"`
	Room  string          `json:"room"`
	Since *uint64         `json:"since"`
	Data  json.RawMessage `json:"data"`
}

// opMarker is what every operation contains; a message without it is not
// worth decoding as one.
var opMarker = []byte(`"op"`)

// parseOp decodes data as a protocol operation, and reports false when it
// is not one: not a JSON object with a non-empty string "op".
func parseOp(data []byte) (clientOp, bool) {
	var op clientOp
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !bytes.Contains(data, opMarker) {
		return op, false
	}
	if err := json.Unmarshal(data, &op); err != nil || op.Op == "" {
		return clientOp{}, false
	}
	return op, true
}

// messageFrame is a Publication as clients receive it.
type messageFrame struct {
	Type   string          `json:"type"`
	Room   string          `json:"room"`
	Seq    uint64          `json:"seq"`
	Time   time.Time       `json:"time"`
	Sender string          `json:"sender,omitempty"`
	Data   json.RawMessage `json:"data"`
}

// encodedFrames caches a Publication's encoding: one room message reaches
// every member, and encoding it once rather than per connection is most of
// what a broadcast to ten thousand costs.
type encodedFrames struct {
	once sync.Once
	json []byte
}

// frame returns p's message frame, encoded once.
func (p *Publication) frame() []byte {
	p.frames.once.Do(func() {
		p.frames.json = mustJSON(messageFrame{typeMessage, p.Room, p.Seq, p.Time, p.Sender, p.Data})
	})
	return p.frames.json
}

// joinedFrame acknowledges a join: the room's position after the replayed
// history, and gap when history no longer reaches back to the position the
// client resumed from. A room that tracks presence adds its members (at
// most maxMemberList) and their total.
type joinedFrame struct {
	Type    string   `json:"type"`
	Room    string   `json:"room"`
	Seq     uint64   `json:"seq"`
	Gap     bool     `json:"gap,omitempty"`
	Members []Member `json:"members,omitempty"`
	Total   int      `json:"total,omitempty"`
}

// roomFrame is a frame about a room with nothing else to say: left.
type roomFrame struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

// presenceFrame relays a Presence batch.
type presenceFrame struct {
	Type   string   `json:"type"`
	Room   string   `json:"room"`
	Joins  []Member `json:"joins,omitempty"`
	Leaves []Member `json:"leaves,omitempty"`
}

// frame returns p's presence frame, encoded once for every member.
func (p *Presence) encoded() []byte {
	p.frame.once.Do(func() {
		p.frame.json = mustJSON(presenceFrame{typePresence, p.Room, p.Joins, p.Leaves})
	})
	return p.frame.json
}

// membersFrame answers a presence operation: the members, at most
// maxMemberList of them, and how many there are.
type membersFrame struct {
	Type    string   `json:"type"`
	Room    string   `json:"room"`
	Members []Member `json:"members"`
	Total   int      `json:"total"`
}

// errorFrame reports a failed operation with an HTTP status, so a client
// handles a refused join (403) as it would a refused request.
type errorFrame struct {
	Type   string `json:"type"`
	Op     string `json:"op,omitempty"`
	Room   string `json:"room,omitempty"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// reconnectFrame precedes a close at shutdown: the client should wait
// DelayMS before reconnecting, spreading the herd of returning clients.
type reconnectFrame struct {
	Type    string `json:"type"`
	DelayMS int64  `json:"delay_ms"`
}

var pongFrame = mustJSON(struct {
	Type string `json:"type"`
}{typePong})

// mustJSON encodes one of the frame types above, which cannot fail: they
// hold strings, numbers, times and already valid raw JSON.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("realtime: encoding a frame: " + err.Error())
	}
	return b
}
