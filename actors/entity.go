package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EntityProducer makes the actor of one sharded entity, given its key: at
// each activation (first message after the entity was passivated, or on a
// new node) and at each restart.
type EntityProducer func(key string) Actor

// ErrNotOwner reports a message to a sharded entity that a node refused
// without processing it, because the node does not (or no longer) own the
// entity: its lease lapsed without a renewal (the fencing rule, see
// docs/cluster.md), or the node is handing its entities over as it stops.
// Requests to an entity Ref retry it within their deadline; a Send's
// message is a dead letter ("not owner").
var ErrNotOwner = errors.New("actors: this node does not own the entity; message not processed")

// Limits of entity kinds and keys: a kind and a key make one subject-safe
// lease key and one name on the wire (bounded at 1 KiB by the envelope).
const (
	maxEntityKind = 64
	maxEntityKey  = 256
)

// WithSharding registers the sharded entity kind (virtual actors): the
// entity kind/key, reached with System.Entity(kind, key), is activated on
// its first message by p(key), passivated after Config.EntityIdleTimeout
// without a message, and activated again on its next one. In a cluster it
// runs on exactly one node at a time, the holder of its lease (see
// docs/cluster.md#virtual-actors); outside a cluster, on this System.
// opts apply to each activation (mailbox, overflow, supervisor); a kind
// is 1 to 64 bytes without '/'. An invalid registration makes
// NewSystemContext fail and NewSystem panic: it is a programming error.
func WithSharding(kind string, p EntityProducer, opts ...SpawnOption) Option {
	return func(s *System) {
		if s.shards == nil {
			s.shards = &shards{sys: s, kinds: make(map[string]*entityKind)}
		}
		if err := CheckEntityKind(kind); err != nil {
			s.shards.errs = append(s.shards.errs, err)
			return
		}
		switch {
		case p == nil:
			s.shards.errs = append(s.shards.errs, fmt.Errorf("actors: WithSharding(%q): nil producer", kind))
		case s.shards.kinds[kind] != nil:
			s.shards.errs = append(s.shards.errs, fmt.Errorf("actors: WithSharding(%q): kind registered twice", kind))
		default:
			var sc spawnConfig
			for _, o := range opts {
				o(&sc)
			}
			sc.kind, sc.pool, sc.singleton = kind, false, false
			s.shards.kinds[kind] = &entityKind{name: kind, producer: p, sc: sc}
		}
	}
}

// CheckEntityKind reports whether kind can name a sharded entity kind: 1
// to 64 bytes, without '/' (which separates kind and key in the entity's
// name, "kind/key").
func CheckEntityKind(kind string) error {
	if kind == "" || len(kind) > maxEntityKind || strings.Contains(kind, "/") {
		return fmt.Errorf("actors: entity kind %q: must be 1 to %d bytes without '/'", kind, maxEntityKind)
	}
	return nil
}

// Entity returns the Ref of the sharded entity kind/key, which Send,
// Request, Forward, Poison and Stop use like any Ref. The entity needs no
// spawn: its first message activates it — here, or in a cluster on the
// node that takes its lease — and it passivates when idle; the Ref stays
// valid across both, and across nodes. Refs to one entity are equal.
//
// Poison and Stop passivate the activation this node runs, or asks the
// node it last sent the entity's messages to; ErrStopped when it knows of
// none. Done closes when the activation on this node, if any, has
// stopped. The activation's own c.Self() is that activation only: hand
// out the entity's Ref instead.
//
// It fails for a kind not registered with WithSharding, and for a key
// that is empty or longer than 256 bytes.
func (s *System) Entity(kind, key string) (Ref, error) {
	if s.shards == nil || s.shards.kinds[kind] == nil {
		return Ref{}, fmt.Errorf("%w: entity kind %q is not registered (actors.WithSharding)", ErrNotFound, kind)
	}
	if key == "" || len(key) > maxEntityKey {
		return Ref{}, fmt.Errorf("actors: entity key of %s: must be 1 to %d bytes, got %d", kind, maxEntityKey, len(key))
	}
	return Ref{ep: s.shards.ref(s.shards.kinds[kind], key)}, nil
}

// entityKind is one WithSharding registration.
type entityKind struct {
	name     string
	producer EntityProducer
	sc       spawnConfig
}

// shards runs a System's sharded entities: the registered kinds, the
// entity endpoints handed out, and the activations on this node.
type shards struct {
	sys   *System
	kinds map[string]*entityKind // fixed after NewSystem
	errs  []error                // invalid WithSharding registrations

	refs internTable[string, entityRef] // by name, "kind/key"

	slots sync.Map // name → *entitySlot: the activation messages go to
	// passivating holds activations closed but not yet stopped; a new
	// activation of the same entity waits for its predecessor's stop hook
	// (which may persist state) and lease release.
	passivating sync.Map // name → *entitySlot

	janitorStop chan struct{}
	janitorDone chan struct{}
}

// ref returns the interned endpoint of kind/key. Endpoints are held
// weakly, like remote ones, so keys seen once do not accumulate.
func (sh *shards) ref(k *entityKind, key string) *entityRef {
	name := k.name + "/" + key
	return sh.refs.get(name, func() *entityRef {
		return &entityRef{sh: sh, kind: k, key: key, address: address{name: name, kind: k.name}}
	})
}

// byName returns the endpoint of the entity a wire name ("\x00kind/key")
// names, or nil when the kind is not registered here.
func (sh *shards) byName(name string) *entityRef {
	if sh == nil {
		return nil
	}
	kind, key, ok := strings.Cut(strings.TrimPrefix(name, entityMark), "/")
	k := sh.kinds[kind]
	if !ok || k == nil || key == "" || len(key) > maxEntityKey {
		return nil
	}
	return sh.ref(k, key)
}

// active reports whether any entity is active on this node.
func (sh *shards) active() bool {
	found := false
	sh.slots.Range(func(any, any) bool { found = true; return false })
	return found
}

// entityRef is the endpoint of a sharded entity: its deliver finds the
// activation — on this node, on the node it was last found on, or a new
// one here, which takes the lease or hands the message to the holder.
type entityRef struct {
	address
	sh   *shards
	kind *entityKind
	key  string
	// hint is the node that last held the entity, when another one: where
	// this node sends its messages without asking the lease bucket.
	hint atomic.Pointer[string]
	// cur is the open activation here, as in shards.slots: read without
	// hashing the name on every message. A slot holds its entityRef, so
	// the interned endpoint outlives its activations.
	cur atomic.Pointer[entitySlot]
}

// maxResolve bounds the attempts of one delivery to find an open
// activation: each failed attempt means an activation closed between
// being found and being used, which a passivation racing the message
// does once.
const maxResolve = 4

func (e *entityRef) deliver(ctx context.Context, env envelope) error {
	return e.deliverVia(ctx, env, true)
}

// deliverVia delivers env to the activation here, else (useHint) to the
// node last known to hold the entity, else to a new activation here.
// Messages from other nodes do not follow hints, so two nodes with stale
// hints never pass a message back and forth.
func (e *entityRef) deliverVia(ctx context.Context, env envelope, useHint bool) error {
	for range maxResolve {
		if s := e.local(); s != nil {
			if ok, err := s.deliver(ctx, env); ok {
				return err
			}
			continue
		}
		if useHint {
			if r, ok := e.remote(); ok {
				return r.deliver(ctx, env)
			}
		}
		s, err := e.sh.activate(e)
		if err != nil {
			e.sh.sys.post.deadLetter(Ref{ep: e}, env, ReasonNotOwner)
			return fmt.Errorf("%w: %w", ErrNotOwner, err)
		}
		if ok, err := s.deliver(ctx, env); ok {
			return err
		}
	}
	e.sh.sys.post.deadLetter(Ref{ep: e}, env, ReasonNotOwner)
	return ErrNotOwner
}

// local returns the open activation on this node, or nil.
func (e *entityRef) local() *entitySlot { return e.cur.Load() }

// remote returns the endpoint of the entity on the node last known to
// hold it, dropping a hint to a node that left the cluster.
func (e *entityRef) remote() (*remoteRef, bool) {
	node := e.hint.Load()
	if node == nil {
		return nil, false
	}
	c := e.sh.sys.cluster.Load()
	if c == nil || !c.members.known(*node) {
		e.hint.CompareAndSwap(node, nil)
		return nil, false
	}
	return c.entityRemote(*node, e), true
}

func (e *entityRef) poison() error {
	if s := e.local(); s != nil {
		return s.passivate(false)
	}
	if r, ok := e.remote(); ok {
		return r.poison()
	}
	return ErrStopped
}

func (e *entityRef) stop() error {
	if s := e.local(); s != nil {
		return s.passivate(true)
	}
	if r, ok := e.remote(); ok {
		return r.stop()
	}
	return ErrStopped
}

func (e *entityRef) done() <-chan struct{} {
	if s := e.local(); s != nil {
		return s.p.doneChan()
	}
	return closedChan
}

func (e *entityRef) addr() *address { return &e.address }

// request is System.Request to an entity: it retries a request that no
// node processed (ErrNotOwner: a lease that lapsed, a node handing over or
// gone) until the caller's deadline — or, without one, the cluster's
// RequestTimeout — so a caller rides out a move of the entity instead of
// failing. Backoff doubles from 20 ms to leaseRetry.
func (e *entityRef) request(ctx context.Context, from *process, msg any) (any, error) {
	sys := e.sh.sys
	c := sys.cluster.Load()
	if c == nil {
		return sys.requestOnce(ctx, from, Ref{ep: e}, msg)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	wait, most := 20*time.Millisecond, max(leaseRetry(c.cfg.LeaseTTL), 20*time.Millisecond)
	for {
		v, err := sys.requestOnce(ctx, from, Ref{ep: e}, msg)
		if !errors.Is(err, ErrNotOwner) {
			return v, err
		}
		e.hint.Store(nil)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctxError(ctx.Err(), Ref{ep: e})
		case <-t.C:
		}
		wait = min(2*wait, most)
	}
}
