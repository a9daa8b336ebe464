package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors/internal/lease"
)

// membership is which nodes are in the cluster: each node leases its id
// in the "troupe_<service>_nodes" bucket for as long as it runs, and every
// node follows the bucket. A node has left when its lease is deleted (a
// graceful stop) or has not been renewed for a TTL (a crash, a
// partition). Its actors are gone with it: the Done of every Ref to them
// closes and the requests waiting on them fail with ErrStopped.
//
// Sharded entities and singletons (a later part of the runtime) move on
// the same signal.
type membership struct {
	c        *cluster
	bucket   *lease.Bucket
	keeper   *lease.Keeper
	self     *lease.Lease
	follower *follower

	mu       sync.Mutex
	seen     map[string]time.Time // node → time of its last renewal (written)
	departed map[string]time.Time // node → when it left, for 2 TTLs
	lastDown time.Time            // the last time this node was seen disconnected
}

// memberValue is a node's entry.
type memberValue struct {
	Started time.Time `json:"started"`
}

// joinMembership leases this node's id, waiting for a previous run's lease
// to age out (a restart after a crash), and starts following the others.
func joinMembership(ctx context.Context, c *cluster, js jetstream.JetStream) (*membership, error) {
	b, err := lease.Open(ctx, js, lease.Config{
		Bucket:      "troupe_" + c.cfg.Service + "_nodes",
		Description: "Troupe nodes of service " + c.cfg.Service + ": one lease per live node",
		TTL:         c.cfg.LeaseTTL, Replicas: c.cfg.Replicas, Storage: c.cfg.Storage,
	})
	if err != nil {
		return nil, fmt.Errorf("actors: cluster: %w", err)
	}
	m := &membership{c: c, bucket: b, seen: make(map[string]time.Time), departed: make(map[string]time.Time), lastDown: time.Now()}
	if m.self, err = m.acquire(ctx); err != nil {
		return nil, err
	}
	if m.follower, err = c.follow(ctx, b.KV(), leaseRetry(b.TTL()), m.onEntry, m.expire); err != nil {
		m.releaseSelf()
		return nil, err
	}
	m.keeper = b.NewKeeper()
	m.keeper.Add(m.self, m.renewFailed)
	return m, nil
}

// acquire takes this node's id. A lease held by a previous run of this
// node ages out within a TTL; one still held after that belongs to a live
// node with the same id, a configuration mistake.
func (m *membership) acquire(ctx context.Context) (*lease.Lease, error) {
	value, _ := json.Marshal(memberValue{Started: time.Now().UTC()})
	give := time.Now().Add(m.bucket.TTL() + lease.Margin(m.bucket.TTL()))
	for {
		l, err := m.bucket.Acquire(ctx, m.c.node, value)
		switch {
		case err == nil:
			return l, nil
		case !errors.Is(err, lease.ErrHeld):
			return nil, fmt.Errorf("actors: cluster: joining as node %q: %w", m.c.node, err)
		case time.Now().After(give):
			return nil, fmt.Errorf("actors: cluster: node id %q is in use by a live node (its lease was renewed for longer than the lease TTL %s): give each node its own id", m.c.node, m.bucket.TTL())
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("actors: cluster: joining as node %q: waiting for a previous run's lease to age out: %w", m.c.node, ctx.Err())
		case <-time.After(m.bucket.TTL() / 10):
		}
	}
}

// onEntry tracks the other nodes' leases: a write is a renewal, a delete
// a graceful leave. expire, every leaseRetry, finds those that stopped.
func (m *membership) onEntry(e jetstream.KeyValueEntry) {
	if e.Key() == m.c.node {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		m.left(e.Key(), true)
		return
	}
	m.mu.Lock()
	m.seen[e.Key()] = written(e.Created())
	delete(m.departed, e.Key())
	m.mu.Unlock()
}

// written is when the server wrote an entry, by this node's clock: its
// timestamp, unless that is in the future (the clocks disagree). A watch
// that delivers late then does not make a renewal look recent.
func written(at time.Time) time.Time {
	if now := time.Now(); at.IsZero() || at.After(now) {
		return now
	}
	return at
}

// expire ends the nodes whose lease has aged out. A node not renewed for
// a TTL less the margin is read from the bucket (gone), every
// leaseRetry until its key is gone or renewed, so a SIGKILLed node is
// seen to leave within about 250 ms of its lease's end. While this node
// itself is (or lately was) disconnected it cannot see renewals, so it
// judges nobody until it has been connected for a whole TTL.
func (m *membership) expire() {
	now := time.Now()
	if !m.c.connected() {
		m.mu.Lock()
		m.lastDown = now
		m.mu.Unlock()
		return
	}
	ttl := m.bucket.TTL()
	var silent []string
	m.mu.Lock()
	for node, at := range m.departed {
		if now.Sub(at) > 2*ttl {
			delete(m.departed, node)
		}
	}
	if now.Sub(m.lastDown) > ttl {
		for node, seen := range m.seen {
			if now.Sub(seen) > ttl-lease.Margin(ttl) {
				silent = append(silent, node)
			}
		}
	}
	m.mu.Unlock()
	for _, node := range silent {
		if m.gone(node) {
			m.left(node, false)
		}
	}
}

// gone confirms with the bucket that a node whose renewals the watch has
// not delivered lately has no lease. The watch is an ordered consumer,
// which can fall behind on a loaded machine and make a live node look
// silent; declaring it gone fails every request waiting on it with
// ErrStopped. The key's presence is the lease itself (the server ages it
// out a TTL after its last write), read from any replica. A read that
// fails judges nobody this round.
func (m *membership) gone(node string) bool {
	ctx, cancel := context.WithTimeout(m.c.ctx, lease.AttemptTimeout(m.bucket.TTL()))
	defer cancel()
	e, err := m.bucket.Get(ctx, node)
	switch {
	case errors.Is(err, lease.ErrNotFound):
		return true
	case err == nil: // the watch is behind
		m.mu.Lock()
		if _, ok := m.seen[node]; ok {
			m.seen[node] = written(e.Created)
		}
		m.mu.Unlock()
	}
	return false
}

// known reports whether node is in the cluster as this node sees it.
func (m *membership) known(node string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.seen[node]
	return ok
}

// departedLately reports whether node left the cluster in the last two
// TTLs and has not renewed a membership since (a restart under the same
// id does): leases that still name it are leftovers, ageing out.
func (m *membership) departedLately(node string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.departed[node]
	return ok
}

// left ends what this node knows of a node that left, gracefully (its
// lease deleted) or not (aged out).
func (m *membership) left(node string, graceful bool) {
	m.mu.Lock()
	_, known := m.seen[node]
	delete(m.seen, node)
	m.departed[node] = time.Now()
	m.mu.Unlock()
	if known {
		how := "its lease aged out"
		if graceful {
			how = "its lease was deleted"
		}
		m.c.logger.Info("node left the cluster", "left", node, "how", how)
	}
	m.c.nodeLeft(node, graceful)
}

// renewFailed re-takes this node's lease after it lapsed (a long
// disconnection); a node that finds its id taken keeps running but logs
// the conflict, which only a duplicate id causes.
func (m *membership) renewFailed(err error) {
	if !errors.Is(err, lease.ErrLost) {
		return
	}
	ctx, cancel := m.c.renewalContext()
	defer cancel()
	err = m.self.Reacquire(ctx)
	switch {
	case errors.Is(err, lease.ErrHeld):
		m.c.logger.Error("this node's membership lease is held by another node: node ids must be unique", "error", err)
	case err != nil:
		m.c.logger.Debug("membership lease lapsed and not yet taken again; retrying", "error", err)
	default:
		// The other nodes may have seen this one leave meanwhile, failing
		// the requests waiting on its actors.
		m.c.logger.Warn("this node's membership lease lapsed (not renewed within the lease TTL) and was taken again", "lease_ttl", m.bucket.TTL())
	}
}

// close stops following and renewing, and releases this node's lease so
// the others see it leave at once rather than after a TTL.
func (m *membership) close() {
	m.follower.close()
	m.keeper.Close()
	m.releaseSelf()
}

func (m *membership) releaseSelf() {
	if !m.c.connected() {
		return
	}
	ctx, cancel := m.c.releaseContext()
	defer cancel()
	if err := m.self.Release(ctx); err != nil {
		m.c.logger.Debug("membership lease not released; it ages out", "error", err)
	}
}

// nodeLeft ends the Done of node's actors and fails the calls waiting on
// them with ErrStopped: whether a message reached the actor before the
// node died is unknown. A node that left gracefully drained its
// subscription first, so it answered everything it took; a call to one of
// its entities still waiting was not processed and fails with ErrNotOwner,
// which an entity Request retries on the entity's next owner.
func (c *cluster) nodeLeft(node string, graceful bool) {
	c.refs.nodeLeft(node)
	entity := func(to Ref) bool {
		rr, ok := to.ep.(*remoteRef)
		return ok && rr.entity
	}
	if graceful {
		c.mux.failWhere(func(to Ref) bool { return to.Node() == node && entity(to) }, ErrNotOwner)
	}
	c.mux.failWhere(func(to Ref) bool { return to.Node() == node }, ErrStopped)
}
