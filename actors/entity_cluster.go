package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors/internal/lease"
)

// entityLeases places sharded entities in a cluster: an activation owns
// its entity while it holds the entity's key in the
// "troupe_<service>_entities" bucket (Create: of nodes racing, exactly one
// wins), renewed every TTL/3 and deleted when the activation stops. A
// node that cannot take the key hands its messages to the holder the key
// names. No watch: an entity's holder is learnt when a message needs it,
// so a bucket of many entities streams nothing to every node.
type entityLeases struct {
	c      *cluster
	bucket *lease.Bucket
	keeper *lease.Keeper
}

// entityValue is an entity's entry: the node running it.
type entityValue struct {
	Node string `json:"node"`
}

// openEntities opens the entities bucket.
func openEntities(ctx context.Context, c *cluster, js jetstream.JetStream) (*entityLeases, error) {
	b, err := lease.Open(ctx, js, lease.Config{
		Bucket:      "troupe_" + c.cfg.Service + "_entities",
		Description: "Troupe sharded entities of service " + c.cfg.Service + ": one lease per active entity",
		TTL:         c.cfg.LeaseTTL, Replicas: c.cfg.Replicas, Storage: c.cfg.Storage,
	})
	if err != nil {
		return nil, fmt.Errorf("actors: cluster: %w", err)
	}
	return &entityLeases{c: c, bucket: b, keeper: b.NewKeeper()}, nil
}

// close stops renewing; the activations have stopped and released.
func (el *entityLeases) close() { el.keeper.Close() }

// acquire runs on a new activation's goroutine and sets its state: the
// owner (the lease is taken and renewed), a forwarder to the holder, or a
// refusal (NATS down). A key naming this node — from a previous run (a
// restart under the same id), an activation here whose release failed,
// or a write of this one's that landed unanswered — is taken back
// (lease.Reacquire): a node runs one activation of an entity at a time,
// and this one began after its predecessor here stopped. A key naming a
// node that left the cluster (a SIGKILLed node's, until it ages out) is
// waited out here, the messages queueing, rather than forwarded to a node
// nobody answers for: forwarded, they were lost, and a request among them
// waited for its deadline. So is a key whose holder cannot be read.
func (el *entityLeases) acquire(s *entitySlot, abort <-chan struct{}) {
	c := el.c
	value, _ := json.Marshal(entityValue{Node: c.node}) // one string
	key := nameKey(s.name)
	until := time.Now().Add(el.bucket.TTL() + lease.Margin(el.bucket.TTL()))
	for {
		ctx, cancel := el.attemptContext()
		l, err := el.bucket.Acquire(ctx, key, value)
		cancel()
		var held *lease.HeldError
		switch {
		case err == nil:
			s.state, s.lease = slotOwner, l
			el.keeper.Add(l, func(err error) { el.renewFailed(s, err) })
			return
		case !errors.As(err, &held):
			// Not processed, so a Request may retry: ErrNotOwner too.
			s.refuse(fmt.Errorf("%w: %w: activating entity %s: %w", ErrNotOwner, ErrUnavailable, s.name, err))
			return
		}
		var v entityValue
		if json.Unmarshal(held.Value, &v) == nil && v.Node != "" && v.Node != c.node && !c.members.departedLately(v.Node) {
			s.state, s.owner = slotForward, Ref{ep: c.entityRemote(v.Node, s.ref)}
			s.ref.hint.Store(&v.Node)
			_ = s.passivate(false) // forwards what is queued, then stops
			return
		}
		if time.Now().After(until) {
			s.refuse(fmt.Errorf("%w: entity %s: its lease names %s, which holds no activation of it", ErrNotOwner, s.name, v.Node))
			return
		}
		select {
		case <-time.After(leaseRetry(el.bucket.TTL())):
		case <-abort:
			s.refuse(ErrNotOwner)
			return
		}
	}
}

// attemptContext bounds the activation's lease write by one attempt
// (lease.AttemptTimeout: a second at most) rather than the request
// timeout. A write sent while the bucket's stream has no leader (4 to 9 s
// after its leader's server dies, nats-server's election timeout) is
// never answered, even once a new leader is elected: bounded by the
// request timeout (30 s by default) it held the activation, and every
// message queued behind it, that long after a node was killed. Failed
// sooner, the activation refuses with ErrNotOwner and the Request
// retrying it activates the entity anew, within a second of the bucket
// having a leader again.
func (el *entityLeases) attemptContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(el.c.ctx, lease.AttemptTimeout(el.bucket.TTL()))
}

// renewFailed handles a renewal that failed. A lease lost (taken or aged
// out while this node could not renew it) fences the activation at once;
// a disconnection leaves it to the ValidUntil check before each message.
func (el *entityLeases) renewFailed(s *entitySlot, err error) {
	if !errors.Is(err, lease.ErrLost) {
		return
	}
	s.lost.Store(true)
	el.c.logger.Warn("entity lease lost; passivating (fencing)", "entity", s.name)
	_ = s.passivate(false)
}

// release stops renewing l and deletes it, unless it was lost, so another
// node activates the entity at once.
func (el *entityLeases) release(l *lease.Lease, lost bool) {
	el.keeper.Remove(l)
	if lost || !el.c.connected() {
		return
	}
	ctx, cancel := el.c.releaseContext()
	defer cancel()
	if err := l.Release(ctx); err != nil {
		el.c.logger.Debug("entity lease not released; it ages out", "key", l.Key(), "error", err)
	}
}

// entityRemote is the endpoint of entity e on node: its messages go to
// the node's subject, addressed by the entity's name with id 0.
func (c *cluster) entityRemote(node string, e *entityRef) *remoteRef {
	return c.refs.get(refKey{node: node, entity: e.name}, e.name, e.kind.name).ep.(*remoteRef)
}

// entityMark starts the wire name of an entity, "\x00kind/key": no
// actor's name starts with a NUL byte in practice, and the mark keeps an
// entity's address apart from an actor addressed by name alone.
const entityMark = "\x00"

// isEntityAddr reports an envelope addressed to an entity.
func isEntityAddr(a wireAddr) bool { return a.id == 0 && strings.HasPrefix(a.name, entityMark) }

// entityHere is the endpoint of a message from another node to an
// entity: the activation on this node, started if need be, never the
// node this one last forwarded to.
type entityHere struct{ *entityRef }

func (e entityHere) deliver(ctx context.Context, env envelope) error {
	return e.deliverVia(ctx, env, false)
}

// serveEntityControl answers a control call on an entity's activation
// here: Poison and Stop passivate it, Watch waits for its end.
func (c *cluster) serveEntityControl(reply string, w *wireMsg) {
	var err error
	e := c.sys.shards.byName(w.to.name)
	var s *entitySlot
	if e != nil {
		s = e.local()
	}
	switch {
	case e == nil:
		err = &NotFoundError{Name: strings.TrimPrefix(w.to.name, entityMark)}
	case s == nil:
		err = ErrStopped
	case w.kind == kindPoison:
		err = s.passivate(false)
	case w.kind == kindStop:
		err = s.passivate(true)
	case w.kind == kindWatch:
		c.watches.serve(s.p, w.from.node)
	}
	if reply != "" {
		c.reply(reply, w.corr, nil, err)
	}
}
