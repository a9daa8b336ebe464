package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"

	"github.com/troupehq/troupe/internal/fielderr"
)

// ClusterConfig joins a System to a cluster of nodes that share a NATS
// system: every node of one service uses the same Service, LeaseTTL and
// Replicas, and a Node id of its own.
type ClusterConfig struct {
	// Conn is the NATS connection; the System uses it and never closes it.
	// Its owner drains it after the System shut down.
	Conn *nats.Conn
	// Node is this node's id, unique in the cluster: letters, digits, '-'
	// and '_', at most 64 bytes. A node restarting after a crash keeps its
	// id and waits (at most LeaseTTL) for its previous lease to age out.
	Node string
	// Service names the cluster: subjects start with "troupe.<Service>."
	// and the lease buckets are "troupe_<Service>_names", "_nodes" and,
	// with WithSharding kinds, "_entities".
	// Same charset as Node.
	Service string
	// LeaseTTL is how long a name (and a node's membership) outlives the
	// last renewal, which happens every LeaseTTL/3: the time a SIGKILLed
	// node's names stay taken.
	LeaseTTL time.Duration
	// Replicas is the lease buckets' JetStream replication factor, 1 to 5:
	// min(3, the number of NATS servers) in production.
	Replicas int
	// Storage is where the lease buckets live: jetstream.FileStorage
	// (the default) or jetstream.MemoryStorage.
	Storage jetstream.StorageType
	// MaxPayload is the largest envelope a node sends or accepts, in
	// bytes; 0 means the NATS server's max_payload.
	MaxPayload int
	// RequestTimeout bounds a remote Request whose context has no
	// deadline (and Stop, Poison and Lookup's network calls), so a node
	// that dies mid-request cannot hold its caller forever.
	RequestTimeout time.Duration
	// Propagator carries trace context across nodes; nil means W3C Trace
	// Context and Baggage. Remote handling joins the caller's trace.
	Propagator propagation.TextMapPropagator
}

// DefaultLeaseTTL and DefaultRequestTimeout are ClusterConfig's defaults.
const (
	DefaultLeaseTTL       = 10 * time.Second
	DefaultRequestTimeout = 30 * time.Second
)

// withDefaults fills zero fields.
func (c ClusterConfig) withDefaults() ClusterConfig {
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Propagator == nil {
		c.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return c
}

// Validate reports every problem of c, each a *fielderr.Error naming its
// field; zero LeaseTTL, Replicas and RequestTimeout take their defaults.
func (c ClusterConfig) Validate() error {
	var errs []error
	if c.Conn == nil {
		errs = append(errs, fielderr.New("Conn", "is required"))
	}
	for field, v := range map[string]string{"Node": c.Node, "Service": c.Service} {
		if err := checkToken(v); err != nil {
			errs = append(errs, fielderr.New(field, "%v", err))
		}
	}
	if c.LeaseTTL < 0 || c.LeaseTTL > 0 && c.LeaseTTL < 300*time.Millisecond {
		errs = append(errs, fielderr.New("LeaseTTL", "must be at least 300ms (renewal runs every TTL/3), got %s", c.LeaseTTL))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fielderr.New("Replicas", "must be 1 to 5, got %d", c.Replicas))
	}
	if c.MaxPayload < 0 || c.MaxPayload > 0 && c.MaxPayload < 1024 {
		errs = append(errs, fielderr.New("MaxPayload", "must be 0 (the server's) or at least 1024, got %d", c.MaxPayload))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, fielderr.New("RequestTimeout", "must not be negative, got %s", c.RequestTimeout))
	}
	if c.Storage != jetstream.FileStorage && c.Storage != jetstream.MemoryStorage {
		errs = append(errs, fielderr.New("Storage", "must be file or memory, got %d", c.Storage))
	}
	return errors.Join(errs...)
}

// checkToken checks a node id or service name: it becomes a subject token
// and part of a bucket name.
func checkToken(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("must be 1 to 64 bytes, got %q", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("must hold only letters, digits, '-' and '_', got %q", s)
		}
	}
	return nil
}

// WithCluster joins the System to a cluster over NATS (see ClusterConfig
// and docs/cluster.md): names become unique cluster-wide, Lookup finds
// actors on every node, and Refs to them work like local ones. Joining
// does I/O that can fail, so a System with this option is made by
// NewSystemContext. Without it nothing touches NATS.
func WithCluster(c ClusterConfig) Option {
	return func(s *System) { s.clusterCfg = &c }
}

// NewSystemContext returns a running System like NewSystem, after the
// I/O its options need: with WithCluster, joining the cluster within ctx.
// On failure nothing is left running.
func NewSystemContext(ctx context.Context, opts ...Option) (*System, error) {
	s := newSystem(opts)
	if err := s.shards.err(); err != nil {
		_ = s.Shutdown(context.Background())
		return nil, err
	}
	if s.clusterCfg == nil {
		return s, nil
	}
	if err := s.JoinCluster(ctx, *s.clusterCfg); err != nil {
		_ = s.Shutdown(context.Background())
		return nil, err
	}
	return s, nil
}

// errJoinLate is JoinCluster's error for a System whose named actors or
// subscriptions the cluster would not know of.
var errJoinLate = errors.New("actors: JoinCluster: the System already has named actors or subscriptions, which the cluster would not know of; join before spawning or subscribing")

// JoinCluster joins a running System to a cluster, like WithCluster: for
// a System made before its NATS connection exists (a service builds its
// System in New and connects in Run). It must come before any named
// Spawn or Subscribe, whose names and interest the cluster has to know
// of, and fails otherwise; anonymous actors may already run. Named spawns
// and subscriptions wait while it joins. It fails, leaving the System
// local, when c is invalid, the cluster cannot be joined within ctx, the
// System already joined one, or it is shutting down.
func (s *System) JoinCluster(ctx context.Context, c ClusterConfig) error {
	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	switch {
	case s.cluster.Load() != nil:
		return errors.New("actors: JoinCluster: already in a cluster")
	case s.stopping():
		return fmt.Errorf("actors: JoinCluster: %w", ErrStopped)
	case s.hasNames() || s.topics.Len() > 0:
		return errJoinLate
	case s.shards != nil && s.shards.active():
		return errEntitiesActive
	}
	cl, err := joinCluster(ctx, s, c)
	if err != nil {
		return err
	}
	s.cluster.Store(cl)
	if s.stopping() {
		// Shutdown began meanwhile and may have missed the cluster.
		cl.leave()
		return fmt.Errorf("actors: JoinCluster: %w", ErrStopped)
	}
	return nil
}

// leaveCluster ends the membership at shutdown, after the actors stopped.
// It takes no lock: leave waits for background work (a singleton's
// keeper) that may be spawning, which holds joinMu shared; a JoinCluster
// that completes after this looked finds the System stopping and leaves
// by itself.
func (s *System) leaveCluster() {
	if c := s.cluster.Load(); c != nil {
		c.leave()
	}
}

// hasNames reports whether any actor is registered under a name.
func (s *System) hasNames() bool {
	found := false
	s.names.Range(func(any, any) bool { found = true; return false })
	return found
}

// stopping reports whether Shutdown has begun.
func (s *System) stopping() bool {
	s.root.mu.Lock()
	defer s.root.mu.Unlock()
	return s.root.closed
}

// cluster is a System's membership of a cluster: its subscriptions, its
// leases and the remote endpoints it hands out.
type cluster struct {
	sys        *System
	nc         *nats.Conn
	node       string
	cfg        ClusterConfig
	prefix     string // "troupe.<service>."
	maxPayload int
	logger     *slog.Logger
	metrics    *remoteInstruments // nil without a meter provider

	nodeSub *nats.Subscription
	mux     replyMux
	refs    refTable
	exports sync.Map // id → *process: local senders a remote Ref may name
	names   *nameRegistry
	// entities is nil unless the System has WithSharding kinds.
	entities *entityLeases
	members  *membership
	topics   topicSubs
	watches  watchTable

	outboxMu sync.Mutex
	outboxes map[string]*outbox // by subject
	// defaultPropagator: the W3C propagators, whose Inject needs a span
	// context or baggage, so a context without either is skipped cheaply.
	defaultPropagator bool

	ctx       context.Context // ends at leave: background work stops
	cancel    context.CancelFunc
	bgMu      sync.Mutex
	leaving   bool
	leaveOnce sync.Once
	wg        sync.WaitGroup
}

// joinCluster starts s's membership: lease buckets, this node's lease,
// the subscriptions and watchers. It undoes what it did on failure.
func joinCluster(ctx context.Context, s *System, cfg ClusterConfig) (_ *cluster, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("actors: cluster config: %w", err)
	}
	defaultPropagator := cfg.Propagator == nil
	cfg = cfg.withDefaults()
	c := &cluster{
		defaultPropagator: defaultPropagator,
		sys:               s, nc: cfg.Conn, node: cfg.Node, cfg: cfg,
		prefix:     "troupe." + cfg.Service + ".",
		maxPayload: cfg.MaxPayload,
		logger:     s.logger.With("node", cfg.Node),
	}
	if server := int(c.nc.MaxPayload()); c.maxPayload == 0 || c.maxPayload > server && server > 0 {
		c.maxPayload = server
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.refs.c, c.watches.c, c.topics.c, c.mux.c = c, c, c, c
	if s.meterProvider != nil {
		c.metrics = newRemoteInstruments(s.meterProvider)
	}
	// Ids restart from the node's start time in microseconds, so an id
	// stays unique across restarts of a node under the same id: a stale
	// Ref from before a crash never reaches a newer actor.
	s.nextID.Store(uint64(time.Now().UnixMicro()))
	defer func() {
		if err != nil {
			c.leave()
		}
	}()
	if err := c.subscribe(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(c.nc)
	if err != nil {
		return nil, fmt.Errorf("actors: cluster: %w", err)
	}
	if c.members, err = joinMembership(ctx, c, js); err != nil {
		return nil, err
	}
	if c.names, err = openNames(ctx, c, js); err != nil {
		return nil, err
	}
	if s.shards != nil {
		if c.entities, err = openEntities(ctx, c, js); err != nil {
			return nil, err
		}
	}
	if err := c.nc.FlushWithContext(ctx); err != nil {
		return nil, fmt.Errorf("actors: cluster: registering subscriptions: %w", err)
	}
	return c, nil
}

// nodeSubject is the subject of every message for an actor on node.
func (c *cluster) nodeSubject(node string) string { return c.prefix + "node." + node }

// subscribe starts the node's subscription (every message for an actor
// on this node) and the reply inbox.
func (c *cluster) subscribe() error {
	sub, err := c.nc.Subscribe(c.nodeSubject(c.node), c.onNodeMsg)
	if err != nil {
		return fmt.Errorf("actors: cluster: subscribing: %w", err)
	}
	c.nodeSub = sub
	return c.mux.start()
}

// leave ends the membership after the actors stopped: it stops the
// watchers and renewals, fails what still waits for a reply, releases the
// node's lease so others see it leave at once, and unsubscribes.
func (c *cluster) leave() { c.leaveOnce.Do(c.leaveNow) }

func (c *cluster) leaveNow() {
	// Background work stops first: a watch being restarted (a JetStream
	// call that, without a quorum, waits nats.go's 5 s timeout) ends at
	// once instead of holding up the stop.
	c.bgMu.Lock()
	c.leaving = true
	c.bgMu.Unlock()
	c.cancel()
	if c.names != nil {
		c.names.close()
	}
	if c.entities != nil {
		c.entities.close()
	}
	c.drainNodeSub()
	if c.members != nil {
		c.members.close()
	}
	c.topics.close()
	if c.nodeSub != nil {
		_ = c.nodeSub.Unsubscribe()
	}
	c.mux.close()
	c.wg.Wait()
	c.refs.closeAll()
}

// drainNodeSub stops taking messages for this node's actors before the
// node leaves: what NATS delivered is still handled (a message for an
// entity gets ErrNotOwner, a request to a stopped actor ErrStopped), and
// once the server confirmed, a request to this node gets "no responders"
// at once instead of waiting for the others to see the node leave — so a
// sender finds the entities this node handed over without a wait. Bounded
// by releaseTimeout when NATS does not answer.
func (c *cluster) drainNodeSub() {
	if c.nodeSub == nil || !c.connected() {
		return
	}
	drained := make(chan struct{})
	c.nodeSub.SetClosedHandler(func(string) { close(drained) })
	if c.nodeSub.Drain() != nil {
		return
	}
	select {
	case <-drained:
	case <-time.After(releaseTimeout):
	}
}

// connected reports whether the connection can carry a message now. A
// publish while reconnecting would sit in nats.go's reconnect buffer (8
// MiB by default) and arrive late, or never; checking first makes it fail
// fast instead, for one read lock (about 10 ns).
func (c *cluster) connected() bool { return c.nc.Status() == nats.CONNECTED }

// publish sends one envelope, failing fast with ErrUnavailable when the
// connection is down.
func (c *cluster) publish(subject, reply string, data []byte) error {
	if !c.connected() {
		return ErrUnavailable
	}
	var err error
	if reply == "" {
		err = c.nc.Publish(subject, data)
	} else {
		err = c.nc.PublishRequest(subject, reply, data)
	}
	return publishError(err)
}

// publishError maps nats.go's errors onto the runtime's.
func publishError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", ErrMessageTooLarge, err)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrReconnectBufExceeded), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrInvalidConnection):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// opContext bounds one network call of the runtime (a lease, a lookup)
// by RequestTimeout.
func (c *cluster) opContext() (context.Context, context.CancelFunc) {
	// From the membership's context: leaving ends a call in flight (a
	// singleton's keeper claiming a name while JetStream has no quorum)
	// rather than waiting for it.
	return context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
}

// leaseRetry is how often a caller waiting for another node's lease to
// lapse looks again — a singleton's standby, a request retrying an
// entity that is moving: a tenth of the TTL, at most 250 ms. At TTL/3 (a
// standby) and TTL/10 (a request) they took over up to 3.3 s and 1 s after
// the lease aged out with the default 10 s TTL, against issue 15's target
// of the TTL + 1 s. A standby's look reads the names' local mirror
// (renewedElsewhere), so only a name that may be free costs a write; a
// request's retry costs one lease create, refused while the lease is held
// (four a second per waiting request, only while its entity moves).
func leaseRetry(ttl time.Duration) time.Duration { return min(ttl/10, 250*time.Millisecond) }

// renewalContext bounds what a lease's owner does when a renewal failed
// (taking the lease again) by the renewal period, TTL/3: it runs on the
// Keeper's goroutines, which renew every lease of the bucket each period.
func (c *cluster) renewalContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.cfg.LeaseTTL/3)
}

// releaseTimeout bounds giving a lease up. A release is one KV delete,
// about a millisecond on a healthy cluster; one that cannot finish within
// a second (JetStream without a quorum, as when a cluster stops node by
// node) is left to age out within the lease TTL, rather than stalling
// each actor's stop by nats.go's 5 s request timeout.
const releaseTimeout = time.Second

// releaseContext bounds one lease release by releaseTimeout.
func (c *cluster) releaseContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), min(releaseTimeout, c.cfg.RequestTimeout))
}
