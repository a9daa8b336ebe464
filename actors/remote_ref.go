package actors

import (
	"context"
	"sync"
)

// remoteRef is the endpoint of an actor on another node, or of a pool (a
// name whose members on several nodes share a NATS queue group). Its
// deliver encodes the message and publishes it on the node's (or the
// pool's) subject; poison and stop are control calls answered by the
// owning node; done is closed when the owner reports the actor's end or
// the node leaves the cluster.
type remoteRef struct {
	address
	node    string // "" for a pool
	entity  bool   // a sharded entity on node, addressed by name
	subject string
	out     *outbox
	c       *cluster

	doneOnce sync.Once
	doneCh   chan struct{}
	closeMu  sync.Mutex
	closed   bool
}

func (r *remoteRef) deliver(ctx context.Context, env envelope) error {
	return r.c.deliver(ctx, r, env)
}

func (r *remoteRef) poison() error { return r.c.control(r, kindPoison) }

func (r *remoteRef) stop() error { return r.c.control(r, kindStop) }

func (r *remoteRef) addr() *address { return &r.address }

func (r *remoteRef) wire() wireAddr {
	if r.entity {
		return wireAddr{node: r.node, name: entityMark + r.name}
	}
	return wireAddr{node: r.node, id: r.id, name: r.name}
}

// done asks the owning node, once, to report the actor's end. A pool has
// no single end: its channel closes when this System shuts down.
func (r *remoteRef) done() <-chan struct{} {
	r.doneOnce.Do(func() {
		r.closeMu.Lock()
		r.doneCh = make(chan struct{})
		closed := r.closed
		r.closeMu.Unlock()
		switch {
		case closed:
			close(r.doneCh)
		case r.node != "":
			r.c.watches.watch(r)
		default:
			r.c.watches.hold(r) // a pool's Done closes at shutdown
		}
	})
	return r.doneCh
}

// terminated closes the Done channel, now or when it is made.
func (r *remoteRef) terminated() {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.doneCh != nil {
		close(r.doneCh)
		r.c.watches.unhold(r)
	}
}

// refKey identifies a remote endpoint: an actor by node and id (ids are
// unique per node, across restarts), a pool by its name.
type refKey struct {
	node   string
	id     uint64
	pool   string
	entity string // a sharded entity's name, "kind/key", on node
}

// refTable interns remote endpoints (internTable).
type refTable struct {
	c *cluster
	internTable[refKey, remoteRef]
}

// get returns the Ref of the remote actor (or pool, for node "") key
// names, interning it.
func (t *refTable) get(key refKey, name, kind string) Ref {
	return Ref{ep: t.internTable.get(key, func() *remoteRef { return t.newRemote(key, name, kind) })}
}

// newRemote builds the endpoint of key.
func (t *refTable) newRemote(key refKey, name, kind string) *remoteRef {
	r := &remoteRef{
		address: address{id: key.id, name: name, kind: kind},
		node:    key.node,
		c:       t.c,
	}
	switch {
	case key.node == "":
		r.name = key.pool
		r.subject = t.c.poolSubject(key.pool)
	case key.entity != "":
		r.name, r.entity = key.entity, true
		r.subject = t.c.nodeSubject(key.node)
	default:
		r.subject = t.c.nodeSubject(key.node)
	}
	r.out = t.c.outboxFor(r.subject)
	return r
}

// nodeLeft ends every endpoint on node: their actors are gone with it.
func (t *refTable) nodeLeft(node string) {
	for _, r := range t.live(func(k refKey) bool { return k.node == node }) {
		r.terminated()
	}
}

// closeAll ends every endpoint's Done: the System is shutting down.
func (t *refTable) closeAll() {
	for _, r := range t.live(func(refKey) bool { return true }) {
		r.terminated()
	}
}
