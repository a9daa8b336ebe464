package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors/internal/lease"
)

// nameRegistry makes names unique across the cluster: a named Spawn
// leases the name in the "troupe_<service>_names" bucket (Create: of two
// nodes racing, exactly one wins; the other's Spawn fails with the same
// *NameTakenError as locally), the lease is renewed while the actor lives
// and released when it stops. A SIGKILLed node's names age out within
// the TTL. Pool members share one lease on their name.
//
// Lookup reads a local mirror of the bucket, kept by a watch, so finding
// a remote actor costs no round trip; a miss (or an entry not renewed for
// a TTL) asks the bucket itself, so an actor spawned a moment ago on
// another node is found too.
type nameRegistry struct {
	c        *cluster
	bucket   *lease.Bucket
	keeper   *lease.Keeper
	follower *follower
	mu       sync.Mutex
	held     map[string]*heldName
	pools    sync.Map // name → struct{}: local pool members, for Lookup
	mirror   sync.Map // key → mirrorEntry
}

// heldName is a name this node holds a lease on.
type heldName struct {
	lease *lease.Lease
	p     *process
	sub   *nats.Subscription // a pool member's queue subscription
}

// nameValue is a name's entry in the bucket.
type nameValue struct {
	Node string `json:"node,omitempty"`
	ID   uint64 `json:"id,omitempty"`
	Kind string `json:"kind,omitempty"`
	// Pool marks a name held jointly by pool members, whose entries must
	// be byte-equal: it carries nothing node-specific.
	Pool bool `json:"pool,omitempty"`
}

type mirrorEntry struct {
	v    nameValue
	seen time.Time // local time the entry was last written
}

// openNames opens the names bucket and starts following it.
func openNames(ctx context.Context, c *cluster, js jetstream.JetStream) (*nameRegistry, error) {
	b, err := lease.Open(ctx, js, lease.Config{
		Bucket:      "troupe_" + c.cfg.Service + "_names",
		Description: "Troupe actor names of service " + c.cfg.Service + ": one lease per named actor",
		TTL:         c.cfg.LeaseTTL, Replicas: c.cfg.Replicas, Storage: c.cfg.Storage,
	})
	if err != nil {
		return nil, fmt.Errorf("actors: cluster: %w", err)
	}
	n := &nameRegistry{c: c, bucket: b, held: make(map[string]*heldName)}
	if n.follower, err = c.follow(ctx, b.KV(), b.TTL()/3, n.mirrorEntry, func() {}); err != nil {
		return nil, err
	}
	n.keeper = b.NewKeeper()
	return n, nil
}

// mirrorEntry records a change of the bucket in the mirror.
func (n *nameRegistry) mirrorEntry(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		n.mirror.Delete(e.Key())
		return
	}
	var v nameValue
	if json.Unmarshal(e.Value(), &v) == nil {
		n.mirror.Store(e.Key(), mirrorEntry{v: v, seen: time.Now()})
	}
}

// close stops following and renewing; the actors have stopped and
// released their names.
func (n *nameRegistry) close() {
	n.follower.close()
	n.keeper.Close()
}

// claim leases name for p, or for a pool member, and starts renewing it.
// The lease's writes are attempts of at most a second, retried while
// unanswered (a write sent while the bucket's stream has no leader, 4 to
// 9 s after its leader's server is killed, is never answered, even once
// a new leader is elected), so a Spawn made during an election succeeds
// soon after it rather than failing at the request timeout (30 s by
// default). A singleton's standby claims within TTL/3, the period of its
// tries.
func (n *nameRegistry) claim(name string, p *process, pool, standby bool) error {
	c := n.c
	if !c.connected() {
		return ErrUnavailable
	}
	v := nameValue{Node: c.node, ID: p.id, Kind: p.kind}
	if pool {
		v = nameValue{Pool: true}
	}
	value, _ := json.Marshal(v) // a struct of strings and numbers
	ctx, cancel := c.opContext()
	if standby {
		cancel()
		ctx, cancel = context.WithTimeout(c.ctx, n.bucket.TTL()/3)
	}
	defer cancel()
	acquire := n.bucket.Acquire
	if pool {
		acquire = n.bucket.AcquireShared
	}
	l, err := acquire(ctx, nameKey(name), value)
	if errors.Is(err, lease.ErrHeld) {
		return &NameTakenError{Name: name}
	}
	if err != nil {
		return fmt.Errorf("%w: claiming the name %q: %w", ErrUnavailable, name, err)
	}
	h := &heldName{lease: l, p: p}
	if pool {
		if h.sub, err = c.nc.QueueSubscribe(c.poolSubject(name), "pool", c.onNodeMsg); err != nil {
			return fmt.Errorf("%w: joining the pool %q: %w", ErrUnavailable, name, err)
		}
		n.pools.Store(name, struct{}{})
	}
	n.mu.Lock()
	n.held[name] = h
	n.mu.Unlock()
	n.keeper.Add(l, func(err error) { n.renewFailed(name, h, err) })
	return nil
}

// release gives p's name up: at once for an actor (others may take it
// before its Done fires), by ageing out for a pool.
func (n *nameRegistry) release(name string, p *process) {
	n.mu.Lock()
	h := n.held[name]
	if h == nil || h.p != p {
		n.mu.Unlock()
		return
	}
	delete(n.held, name)
	n.mu.Unlock()
	n.keeper.Remove(h.lease)
	if h.sub != nil {
		n.pools.Delete(name)
		_ = h.sub.Unsubscribe()
	}
	if n.c.connected() {
		ctx, cancel := n.c.releaseContext()
		defer cancel()
		if err := h.lease.Release(ctx); err != nil {
			n.c.logger.Debug("name not released; it ages out", "name", name, "error", err)
		}
	}
}

// renewFailed handles a renewal that failed. A disconnection is retried
// next round. A lost lease (the key aged out while this node could not
// reach NATS) is taken again if it is still free; if another node took
// the name meanwhile, the holder of the lease wins and the local actor
// stops, so the name is never held twice once the partition heals.
func (n *nameRegistry) renewFailed(name string, h *heldName, err error) {
	if !errors.Is(err, lease.ErrLost) {
		n.c.logger.Debug("name lease not renewed; retrying", "name", name, "error", err)
		return
	}
	ctx, cancel := n.c.renewalContext()
	defer cancel()
	err = h.lease.Reacquire(ctx)
	switch {
	case err == nil:
		n.c.logger.Info("name lease re-acquired after it lapsed", "name", name)
	case errors.Is(err, lease.ErrHeld):
		n.c.logger.Warn("another node took the name while this one could not renew it; stopping the local actor", "name", name, "actor", h.p.ref().String())
		n.release(name, h.p)
		h.p.requestStop()
	default:
		n.c.logger.Debug("name lease lost; retrying", "name", name, "error", err)
	}
}

// isPool reports whether name is a pool with a member here.
func (n *nameRegistry) isPool(name string) bool {
	_, ok := n.pools.Load(name)
	return ok
}

// renewedElsewhere reports whether the names' mirror shows name held by
// another node and renewed lately enough — a TTL less the margin ago —
// that its lease cannot have aged out yet. The mirror follows the bucket
// by a watch and may lag, which only makes a name look free early: the
// claim that follows is refused.
func (n *nameRegistry) renewedElsewhere(name string) bool {
	e, ok := n.mirror.Load(nameKey(name))
	if !ok {
		return false
	}
	me := e.(mirrorEntry)
	ttl := n.bucket.TTL()
	return me.v.Node != n.c.node && time.Since(me.seen) < ttl-lease.Margin(ttl)
}

// lookup finds a name held on another node (or a pool).
func (n *nameRegistry) lookup(name string) (Ref, error) {
	key := nameKey(name)
	if e, ok := n.mirror.Load(key); ok {
		if me := e.(mirrorEntry); time.Since(me.seen) < n.bucket.TTL() {
			if ref, ok := n.refFor(name, me.v); ok {
				return ref, nil
			}
		}
	}
	ctx, cancel := n.c.opContext()
	defer cancel()
	e, err := n.bucket.Get(ctx, key)
	if errors.Is(err, lease.ErrNotFound) {
		return Ref{}, &NotFoundError{Name: name}
	}
	if err != nil {
		return Ref{}, fmt.Errorf("%w: looking up %q: %w", ErrUnavailable, name, err)
	}
	var v nameValue
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return Ref{}, fmt.Errorf("actors: the name %q has a corrupt entry: %w", name, err)
	}
	if ref, ok := n.refFor(name, v); ok {
		return ref, nil
	}
	return Ref{}, &NotFoundError{Name: name}
}

// refFor is the Ref an entry names; an entry naming this node is stale
// (the local registry, asked first, did not have it).
func (n *nameRegistry) refFor(name string, v nameValue) (Ref, bool) {
	switch {
	case v.Pool:
		return n.c.refs.get(refKey{pool: name}, name, "pool"), true
	case v.Node == "" || v.Node == n.c.node:
		return Ref{}, false
	}
	return n.c.refs.get(refKey{node: v.Node, id: v.ID}, name, v.Kind), true
}

// poolSubject is the subject of the pool called name.
func (c *cluster) poolSubject(name string) string { return c.prefix + "pool." + nameKey(name) }

// nameKey turns an actor name into a KV key and a single subject token:
// letters, digits, '-' and '_' stay as they are ("notes", "room-42"),
// every other byte becomes "=XX" in hex ("a.b" → "a=2Eb").
func nameKey(name string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}
