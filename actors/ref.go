package actors

import (
	"context"
	"strconv"
)

// Ref addresses an actor. It is comparable (usable as a map key and with ==),
// two words, and its zero value means "no actor".
//
// A Ref is the endpoint that accepts the actor's messages: for a local
// actor, its process; for an actor on another node of a cluster, a remote
// endpoint, interned per (node, id), whose deliver encodes the message
// onto the node's NATS subject (remote_ref.go), so Send, Request, Forward,
// Poison, Stop and Done work unchanged. A Ref to a stopped actor stays
// valid as a value; messages to it become dead letters. Ids are never
// reused, so a stale Ref never reaches a newer actor that took the same
// name.
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
	// stop asks for a hard stop; ErrStopped when one was already asked or
	// done.
	stop() error
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

// Node returns the id of the cluster node the actor lives on: this
// node's for a local actor, "" for a pool (its members live on several)
// and outside a cluster.
func (r Ref) Node() string {
	switch ep := r.ep.(type) {
	case *remoteRef:
		return ep.node
	case *process:
		if c := ep.sys.cluster.Load(); c != nil {
			return c.node
		}
	}
	return ""
}

// String returns "name#id" for a local actor, "name#id@node" for a remote
// one and "name@pool" for a pool; anonymous actors show their kind as the
// name.
func (r Ref) String() string {
	if r.ep == nil {
		return "<nil>"
	}
	a := r.ep.addr()
	name := a.name
	if name == "" {
		name = a.kind
	}
	if rr, ok := r.ep.(*remoteRef); ok {
		if rr.node == "" {
			return name + "@pool"
		}
		return name + "#" + strconv.FormatUint(a.id, 10) + "@" + rr.node
	}
	return name + "#" + strconv.FormatUint(a.id, 10)
}
