package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/fielderr"
)

// RoomConfig sets what rooms whose names match Pattern keep.
type RoomConfig struct {
	// Pattern matches room names token by token (tokens are separated by
	// '.'): "*" matches one token, a final ">" one or more. "chat.*"
	// matches "chat.lobby"; ">" matches every room.
	Pattern string
	// History is how many of the room's latest messages it keeps, so that
	// a client that reconnects resumes where it left off. Zero keeps none.
	// The room keeps them while it has members or traffic, and for a
	// minute after (see the package documentation).
	History int
	// Presence makes the room track its members, announce joins and leaves
	// to them, and answer the presence operation.
	Presence bool
}

// maxHistory bounds RoomConfig.History: a room's history is held in
// memory, and resuming further back than this is what a database is for.
const maxHistory = 10_000

func (rc RoomConfig) validate() error {
	var errs []error
	if err := checkRoomName(rc.Pattern, true); err != nil {
		errs = append(errs, fielderr.New("Pattern", "%w", err))
	}
	if rc.History < 0 || rc.History > maxHistory {
		errs = append(errs, fielderr.New("History", "must be between 0 and %d, got %d", maxHistory, rc.History))
	}
	return errors.Join(errs...)
}

// Room names: at most maxRoomTokens tokens of letters, digits, '_' and
// '-', separated by '.', at most maxRoomName bytes. Each room is the actor
// subject roomSubjectPrefix+name, whose tokens the actor runtime bounds at
// 16; ':' and ',' are left out because resume positions use them
// ("room:seq,room:seq").
const (
	maxRoomName       = 128
	maxRoomTokens     = 8
	roomSubjectPrefix = "realtime.room."
)

// checkRoomName reports why name is not a valid room name, or, with
// wildcards, a valid room pattern.
func checkRoomName(name string, wildcards bool) error {
	if name == "" || len(name) > maxRoomName {
		return fmt.Errorf("a room name has 1 to %d bytes, got %d", maxRoomName, len(name))
	}
	tokens := strings.Split(name, ".")
	if len(tokens) > maxRoomTokens {
		return fmt.Errorf("a room name has at most %d tokens separated by '.', got %d", maxRoomTokens, len(tokens))
	}
	for i, tok := range tokens {
		if wildcards && (tok == "*" || tok == ">" && i == len(tokens)-1) {
			continue
		}
		if tok == "" || strings.IndexFunc(tok, notRoomChar) >= 0 {
			return fmt.Errorf("room name %q: token %q is not letters, digits, '_' and '-'", name, tok)
		}
	}
	return nil
}

func notRoomChar(r rune) bool {
	return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
}

// matchRoom reports whether the room pattern matches name.
func matchRoom(pattern, name string) bool {
	p, n := strings.Split(pattern, "."), strings.Split(name, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(n) > i
		case i >= len(n):
			return false
		case tok != "*" && tok != n[i]:
			return false
		}
	}
	return len(p) == len(n)
}

// roomConfig returns the config of the room name.
func (h *Hub) roomConfig(name string) RoomConfig {
	for _, rc := range h.roomCfg {
		if matchRoom(rc.Pattern, name) {
			return rc
		}
	}
	return RoomConfig{}
}

// roomTable maps room names to their live actors. A room actor is spawned
// on a room's first join or publication and retires itself when idle
// (room_actor.go), so rooms cost nothing while nobody uses them.
type roomTable struct {
	mu   sync.Mutex
	refs map[string]actors.Ref
}

func (t *roomTable) init() { t.refs = make(map[string]actors.Ref) }

// room returns the actor of the room name, spawning it if need be. Its
// mailbox holds a join or a leave from every connection the process may
// have, twice over: when a load balancer moves every client at once, each
// one's join must wait its turn rather than be refused, and a refused
// leave would leave a ghost member until the next sweep. Mailboxes grow on
// demand, so the bound costs nothing until it is used; past it,
// publishers wait (the Block policy), which slows the chattiest clients'
// readers rather than losing messages.
func (h *Hub) room(name string) (actors.Ref, error) {
	t := &h.rooms
	t.mu.Lock()
	defer t.mu.Unlock()
	if ref, ok := t.refs[name]; ok {
		return ref, nil
	}
	ref, err := h.sys.SpawnActor("", newRoomActor(h, name), actors.WithKind("realtime.room"),
		actors.WithMailboxSize(2*h.cfg.MaxConnections+1024))
	if err != nil {
		return actors.Ref{}, fmt.Errorf("realtime: starting room %q: %w", name, err)
	}
	t.refs[name] = ref
	return ref, nil
}

// retire forgets the actor ref of room name, so the next user spawns a new
// one; it reports false when ref is no longer the room's actor.
func (h *Hub) retire(name string, ref actors.Ref) bool {
	t := &h.rooms
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refs[name] != ref {
		return false
	}
	delete(t.refs, name)
	return true
}

// sendRoom delivers msg to the actor of room name. A room actor that
// retired between the lookup and the send refuses it (ErrStopped); the
// second attempt reaches its successor.
func (h *Hub) sendRoom(name string, msg any) error {
	var err error
	for range 2 {
		var ref actors.Ref
		if ref, err = h.room(name); err != nil {
			return err
		}
		if err = h.sys.Send(ref, msg); !errors.Is(err, actors.ErrStopped) {
			return err
		}
		h.retire(name, ref)
	}
	return err
}

// Publish publishes v to room: members receive it with the room's next
// position and the time, and the room's history keeps it. A []byte or
// json.RawMessage must hold JSON and is sent as is; any other value is
// JSON-encoded. Publish returns once the room has the message, not once
// members do; it fails for an invalid room name or value, or after
// Shutdown.
func (h *Hub) Publish(room string, v any) error {
	if err := checkRoomName(room, false); err != nil {
		return fmt.Errorf("realtime: Publish: %w", err)
	}
	var data []byte
	switch b := v.(type) {
	case json.RawMessage:
		data = bytes.Clone(b) // the caller may reuse it; members read it later
	case []byte:
		data = bytes.Clone(b)
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			return fmt.Errorf("realtime: Publish to %q: %w", room, err)
		}
	}
	if !json.Valid(data) {
		return fmt.Errorf("realtime: Publish to %q: the data is not JSON", room)
	}
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		return ErrShuttingDown
	}
	return h.sendRoom(room, &publishRequest{data: data})
}
