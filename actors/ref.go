package actors

import (
	"context"
	"strconv"
)

// Ref addresses an actor. It is comparable (usable as a map key and with ==),
// two words, and its zero value means "no actor".
//
// A Ref is the endpoint that accepts the actor's messages: for a local
// actor, its process. Location transparency comes from the endpoint, not
// from the caller: a remote transport would intern one proxy endpoint per
// (node, id) whose deliver serialises the message onto the actor's NATS
// subject, and hand out Refs holding it, so Send, Request, Stop and Done
// work unchanged. A Ref to a stopped actor stays valid as a value; messages
// to it become dead letters. Ids are never reused, so a stale Ref never
// reaches a newer actor that took the same name.
type Ref struct {
	ep endpoint
}

// endpoint is what a Ref points at: everything that reaches an actor from
// outside its own goroutine goes through these methods. *process is the
// local implementation; the seam exists so that an actor on another node
// can be one more implementation, with no change to the API above it.
type endpoint interface {
	// deliver queues a user message under the actor's overflow policy; ctx
	// bounds a Block wait. It returns errDropped when DropNewest discarded
	// the message.
	deliver(ctx context.Context, env envelope) error
	// poison queues an in-band stop, after what is already queued.
	poison() error
	// stop asks for a hard stop; false when one was already asked or done.
	stop() bool
	// done is closed once the actor has terminated.
	done() <-chan struct{}
	// addr is the actor's identity.
	addr() *address
}

// address is an actor's identity: its id, unique and never reused within a
// System, its registered name ("" for anonymous) and its kind, the metrics
// label.
type address struct {
	id   uint64
	name string
	kind string
}

// IsZero reports whether r addresses no actor.
func (r Ref) IsZero() bool { return r.ep == nil }

// ID returns the actor's unique id within its System (0 for the zero Ref).
func (r Ref) ID() uint64 {
	if r.ep == nil {
		return 0
	}
	return r.ep.addr().id
}

// Name returns the registered name, or "" for an anonymous actor.
func (r Ref) Name() string {
	if r.ep == nil {
		return ""
	}
	return r.ep.addr().name
}

// kind returns the actor's metrics label, "" for the zero Ref.
func (r Ref) kind() string {
	if r.ep == nil {
		return ""
	}
	return r.ep.addr().kind
}

// String returns "name#id"; anonymous actors show their kind as the name.
func (r Ref) String() string {
	if r.ep == nil {
		return "<nil>"
	}
	a := r.ep.addr()
	name := a.name
	if name == "" {
		name = a.kind
	}
	return name + "#" + strconv.FormatUint(a.id, 10)
}
