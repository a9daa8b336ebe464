package actors

import (
	"context"
	"runtime"
	"sync"
	"weak"
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

// refTable interns remote endpoints, so two Refs to one remote actor are
// equal (==, map keys) and share one Done. It holds them weakly: an
// endpoint no Ref points at any more is collected and its entry removed,
// so refs seen once (the sender of one message) do not accumulate.
type refTable struct {
	c  *cluster
	mu sync.Mutex
	m  map[refKey]weak.Pointer[remoteRef]
}

// get returns the Ref of the remote actor (or pool, for node "") key
// names, interning it.
func (t *refTable) get(key refKey, name, kind string) Ref {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.m[key]; ok {
		if r := wp.Value(); r != nil {
			return Ref{ep: r}
		}
	}
	if t.m == nil {
		t.m = make(map[refKey]weak.Pointer[remoteRef])
	}
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
	wp := weak.Make(r)
	t.m[key] = wp
	runtime.AddCleanup(r, t.forget, refEntry{key, wp})
	return Ref{ep: r}
}

type refEntry struct {
	key refKey
	wp  weak.Pointer[remoteRef]
}

// forget removes a collected endpoint's entry, unless a newer one took it.
func (t *refTable) forget(e refEntry) {
	t.mu.Lock()
	if t.m[e.key] == e.wp {
		delete(t.m, e.key)
	}
	t.mu.Unlock()
}

// lookup returns the live endpoint for key, or nil.
func (t *refTable) lookup(key refKey) *remoteRef {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key].Value()
}

// nodeLeft ends every endpoint on node: their actors are gone with it.
func (t *refTable) nodeLeft(node string) {
	t.mu.Lock()
	var gone []*remoteRef
	for k, wp := range t.m {
		if k.node == node {
			if r := wp.Value(); r != nil {
				gone = append(gone, r)
			}
		}
	}
	t.mu.Unlock()
	for _, r := range gone {
		r.terminated()
	}
}

// closeAll ends every endpoint's Done: the System is shutting down.
func (t *refTable) closeAll() {
	t.mu.Lock()
	var all []*remoteRef
	for _, wp := range t.m {
		if r := wp.Value(); r != nil {
			all = append(all, r)
		}
	}
	t.mu.Unlock()
	for _, r := range all {
		r.terminated()
	}
}
