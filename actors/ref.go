package actors

import "strconv"

// Ref addresses an actor. It is comparable (usable as a map key and with ==),
// two words, and its zero value means "no actor".
//
// A Ref is an address plus a resolved endpoint: id is the actor's unique
// identity within its System, and p is the endpoint messages are handed to
// (for a local actor, its process with the mailbox; the name lives there so
// the Ref stays small). Location transparency comes from resolving p, not
// from the caller: a remote transport would intern one proxy endpoint per
// (node, id) whose enqueue serialises the message onto the actor's NATS
// subject, and hand out Refs pointing at it, so Send, Request and Stop work
// unchanged. A Ref to a stopped actor stays valid as a value; messages to it
// become dead letters. Ids are never reused, so a stale Ref never reaches a
// newer actor that took the same name.
type Ref struct {
	p  *process
	id uint64
}

// IsZero reports whether r addresses no actor.
func (r Ref) IsZero() bool { return r.p == nil }

// ID returns the actor's unique id within its System (0 for the zero Ref).
func (r Ref) ID() uint64 { return r.id }

// Name returns the registered name, or "" for an anonymous actor.
func (r Ref) Name() string {
	if r.p == nil {
		return ""
	}
	return r.p.name
}

// String returns "name#id"; anonymous actors show their kind as the name.
func (r Ref) String() string {
	if r.p == nil {
		return "<nil>"
	}
	name := r.p.name
	if name == "" {
		name = r.p.kind
	}
	return name + "#" + strconv.FormatUint(r.id, 10)
}
