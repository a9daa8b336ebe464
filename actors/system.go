package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/actors/internal/topic"
)

// Actor is the behaviour of an actor: Receive handles one message at a time,
// never concurrently with another message of the same actor.
type Actor interface {
	Receive(c *Context, msg any)
}

// Producer makes a fresh Actor instance: at Spawn and at every restart.
type Producer func() Actor

// System runs actors: it spawns them, routes messages, supervises failures
// and shuts them down in order. It is safe for concurrent use.
type System struct {
	cfg        Config
	clusterCfg *ClusterConfig // WithCluster's, joined by NewSystemContext
	// cluster is nil outside a cluster: nothing touches NATS. JoinCluster
	// sets it while the System runs, hence the atomic; a load is a plain
	// read on amd64 and arm64, so local sends pay nothing for it.
	cluster atomic.Pointer[cluster]
	// joinMu orders JoinCluster against what the cluster must know of:
	// named spawns and subscriptions hold it shared, JoinCluster and the
	// cluster's leave at shutdown exclusively.
	joinMu        sync.RWMutex
	logger        *slog.Logger
	meterProvider metric.MeterProvider
	metrics       *instruments // nil without WithMeterProvider
	unobserve     func()
	observe       *observing     // nil without WithObserver (observe.go)
	cycles        *cycleDetector // nil without WithCycleDetection (cycles.go)
	shards        *shards        // nil without WithSharding (entity.go)

	root  *process // the guardian: parent of top-level actors, never runs
	names sync.Map // string → *process
	// claiming reserves a name while the cluster claims it (see register).
	claiming sync.Map // string → *process
	nextID   atomic.Uint64
	topics   *topic.Trie[Ref]

	post   postOffice // the sink of every local mailbox: dead letters and drops
	events Stream[Event]

	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error

	sent, processed, restarts atomic.Uint64
	live                      atomic.Int64
}

// NewSystem returns a running System. A System joining a cluster
// (WithCluster) is made by NewSystemContext instead, since joining can
// fail; NewSystem panics when given WithCluster.
func NewSystem(opts ...Option) *System {
	s := newSystem(opts)
	if s.clusterCfg != nil {
		panic("actors: NewSystem with WithCluster: use NewSystemContext, which reports a failure to join")
	}
	if err := s.shards.err(); err != nil {
		panic(err)
	}
	return s
}

func newSystem(opts []Option) *System {
	s := &System{
		cfg:          DefaultConfig(),
		logger:       slog.Default(),
		topics:       topic.NewTrie[Ref](),
		shutdownDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.root = &process{sys: s, address: address{name: "root", kind: "root"}}
	s.root.sup.strategy = OneForOne().resolve(s.cfg)
	s.post.observe = s.observe
	if s.meterProvider != nil {
		s.metrics = newInstruments(s.meterProvider)
		s.unobserve = s.metrics.observeDepth(s.reportDepth)
		s.post.metrics = s.metrics
	}
	s.shards.start()
	return s
}

// Spawn starts a top-level actor made by p. name "" means anonymous; a taken
// name returns a *NameTakenError. The actor receives Started first.
func (s *System) Spawn(name string, p Producer, opts ...SpawnOption) (Ref, error) {
	if p == nil {
		return Ref{}, errNilProducer
	}
	return s.spawn(s.root, name, p, nil, opts)
}

// SpawnActor starts a top-level actor from a value. The same value is kept
// across restarts: it receives Restarting, then Started, and must reset its
// own state.
func (s *System) SpawnActor(name string, a Actor, opts ...SpawnOption) (Ref, error) {
	if a == nil {
		return Ref{}, errNilActor
	}
	return s.spawn(s.root, name, nil, a, opts)
}

func (s *System) spawn(parent *process, name string, prod Producer, a Actor, opts []SpawnOption) (Ref, error) {
	var sc spawnConfig
	for _, o := range opts {
		o(&sc)
	}
	if sc.singleton {
		if c := s.cluster.Load(); c != nil {
			return c.spawnSingleton(parent, name, prod, a, opts)
		}
	}
	return s.spawnWith(parent, name, prod, a, &sc)
}

// spawnWith starts an actor configured by sc.
func (s *System) spawnWith(parent *process, name string, prod Producer, a Actor, sc *spawnConfig) (Ref, error) {
	if prod != nil {
		var err error
		if a, err = produce(prod); err != nil {
			return Ref{}, err
		}
	}
	p := s.newProcess(parent, name, sc)
	p.drain.actor, p.drain.producer = a, prod
	if p.kind == "" {
		p.kind = reflect.TypeOf(a).String()
	}
	if name != "" {
		if err := s.register(name, p, sc); err != nil {
			return Ref{}, err
		}
	}
	if !parent.adopt(p) {
		if name != "" {
			s.deregister(name, p)
		}
		return Ref{}, ErrStopped
	}
	s.live.Add(1)
	if s.events.hasSubscribers() {
		s.events.publish(ActorStarted{Ref: p.ref()})
	}
	if sc.dedicated {
		p.drain.wake = make(chan struct{}, 1)
		go p.parked()
	}
	p.enqueueSys(sysMsg{kind: sysStart})
	return p.ref(), nil
}

// newProcess makes the process of an actor about to be spawned under
// parent: the System's defaults, overridden by the spawn options.
func (s *System) newProcess(parent *process, name string, sc *spawnConfig) *process {
	p := &process{
		sys:     s,
		address: address{id: s.nextID.Add(1), name: name, kind: sc.kind},
		mb: mailbox{
			capacity:     s.cfg.MailboxSize,
			policy:       s.cfg.Overflow,
			sink:         &s.post,
			blockTimeout: s.cfg.BlockTimeout,
		},
		sup: supervision{parent: parent, strategy: s.root.sup.strategy},
	}
	p.drain.cx.p = p
	p.drain.noTiming = sc.noTiming
	if s.observe != nil || s.cycles != nil {
		p.obs = new(observed)
	}
	if sc.mailboxSize > 0 {
		p.mb.capacity = sc.mailboxSize
	}
	if sc.hasOverflow {
		p.mb.policy = sc.overflow
	}
	if sc.strategy != nil {
		p.sup.strategy = sc.strategy.resolve(s.cfg)
	}
	return p
}

// register takes name for p: in this System, then, in a cluster, across
// the cluster (a lease; see cluster_names.go).
func (s *System) register(name string, p *process, sc *spawnConfig) error {
	s.joinMu.RLock()
	defer s.joinMu.RUnlock()
	c := s.cluster.Load()
	if c == nil {
		if _, taken := s.names.LoadOrStore(name, p); taken {
			return &NameTakenError{Name: name}
		}
		return nil
	}
	// In a cluster p gets the name only once the cluster's lease is its:
	// Lookup and messages from other nodes find the name in s.names, and
	// a process put there before its claim answered them while another
	// node held the name — a singleton's standby, claiming every TTL/3,
	// answered GET /api/v2/stats of the showcase with a fresh instance's
	// zero counts. The reservation keeps local spawns of one name apart
	// meanwhile: taken before s.names is checked, and given up after
	// the Store, so of two spawns one sees the other.
	if _, taken := s.claiming.LoadOrStore(name, p); taken {
		return &NameTakenError{Name: name}
	}
	defer s.claiming.CompareAndDelete(name, p) // after the Store below
	if _, taken := s.names.Load(name); taken {
		return &NameTakenError{Name: name}
	}
	if err := c.names.claim(name, p, sc.pool, sc.standby); err != nil {
		return err
	}
	s.names.Store(name, p)
	return nil
}

// deregister frees p's name across the cluster, then here: a node that
// learns of p's end (Done) finds the name free.
func (s *System) deregister(name string, p *process) {
	if c := s.cluster.Load(); c != nil {
		c.names.release(name, p)
	}
	s.names.CompareAndDelete(name, p)
}

var (
	errNilProducer = errors.New("actors: nil Producer")
	errNilActor    = errors.New("actors: nil Actor")
)

// produce calls a Producer, turning a panic or a nil Actor into an error.
func produce(prod Producer) (a Actor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r}
		}
	}()
	if a = prod(); a == nil {
		return nil, errors.New("actors: Producer returned nil")
	}
	return a, nil
}

// Send delivers msg to to without waiting for it to be processed. It returns
// ErrMailboxFull (Reject, or Block past Config.BlockTimeout), ErrStopped, or
// a *NotFoundError for the zero Ref; refused messages are also dead letters.
func (s *System) Send(to Ref, msg any) error {
	return s.send(bg, nil, to, msg)
}

// SendContext is Send whose Block-policy wait is bounded by ctx.
func (s *System) SendContext(ctx context.Context, to Ref, msg any) error {
	return s.send(ctx, nil, to, msg)
}

func (s *System) send(ctx context.Context, from *process, to Ref, msg any) error {
	if to.ep == nil {
		return &NotFoundError{}
	}
	err := to.ep.deliver(ctx, envelope{msg: msg, from: from})
	if err == errDropped {
		return nil
	}
	return err
}

// Request sends msg to to and waits for the reply, for at most ctx's
// deadline. The reply is returned as is, even when it is an error value; the
// error result is about delivery: *TimeoutError (errors.Is ErrTimeout and
// context.DeadlineExceeded), ErrStopped, ErrMailboxFull, ErrNoReply, or the
// actor's failure. A reply arriving after the deadline is a dead letter.
// Cancelling ctx ends the wait with ctx's error; a cancellation within the
// first millisecond of a wait under a deadline is seen when that
// millisecond ends (see the package doc).
func (s *System) Request(ctx context.Context, to Ref, msg any) (any, error) {
	return s.request(ctx, nil, to, msg)
}

// Lookup returns the live actor registered under name, or a
// *NotFoundError. In a cluster it finds actors on every node: this
// System's first, then the cluster's (a remote Ref), and a pool's name
// gives the pool's Ref, whose messages are balanced across its members;
// it returns an error matching ErrUnavailable when the cluster cannot be
// asked.
func (s *System) Lookup(name string) (Ref, error) {
	c := s.cluster.Load()
	if v, ok := s.names.Load(name); ok && (c == nil || !c.names.isPool(name)) {
		return v.(*process).ref(), nil
	}
	if c != nil {
		return c.names.lookup(name)
	}
	return Ref{}, &NotFoundError{Name: name}
}

// Stop stops ref after its current message: its children stop first, the
// rest of its mailbox becomes dead letters, and its name is freed. It returns
// at once (see Done) and ErrStopped if ref is already stopping or stopped.
func (s *System) Stop(ref Ref) error {
	if ref.ep == nil {
		return &NotFoundError{}
	}
	return ref.ep.stop()
}

// Poison queues an in-band stop: ref processes what was queued before it,
// then stops (its children drain and stop first). It ignores the mailbox
// bound and returns ErrStopped if ref is already stopping.
func (s *System) Poison(ref Ref) error {
	if ref.ep == nil {
		return &NotFoundError{}
	}
	return ref.ep.poison()
}

// Done returns a channel closed when ref has terminated (its Stopped was
// delivered and its name freed); for the zero Ref it is already closed.
func (s *System) Done(ref Ref) <-chan struct{} {
	if ref.ep == nil {
		return closedChan
	}
	return ref.ep.done()
}

// DeadLetters is the stream of messages that did not reach Receive.
func (s *System) DeadLetters() *Stream[DeadLetter] { return &s.post.stream }

// Events is the stream of lifecycle events.
func (s *System) Events() *Stream[Event] { return &s.events }

// Stats is a snapshot of the System's counters.
type Stats struct {
	// Sent counts messages accepted into mailboxes. It is updated when a
	// drain goroutine picks them up, so it may lag by what is still queued.
	Sent uint64
	// Processed counts messages handled by Receive, added per batch.
	Processed uint64
	// DeadLetters counts dead letters by reason (the Reason* constants).
	DeadLetters map[string]uint64
	// Dropped counts messages lost or refused by each overflow policy
	// (Block counts deadline expiries).
	Dropped map[OverflowPolicy]uint64
	// Restarts counts supervisor restarts.
	Restarts uint64
	// Live is the number of actors spawned and not yet terminated.
	Live int64
}

// Stats returns a snapshot of the counters.
func (s *System) Stats() Stats {
	st := Stats{
		Sent:      s.sent.Load(),
		Processed: s.processed.Load(),
		Restarts:  s.restarts.Load(),
		Live:      s.live.Load(),
	}
	s.post.counts(&st)
	return st
}

// Shutdown stops every actor: top-level actors in reverse spawn order, each
// draining its mailbox after its children did, within ctx (or
// Config.ShutdownTimeout when ctx has no deadline). Past the deadline the
// rest are stopped at once, their queues becoming dead letters. When it
// returns nil no actor goroutine or timer remains. Spawn fails afterwards.
func (s *System) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.shutdownErr = s.shutdown(ctx)
		close(s.shutdownDone)
	})
	select {
	case <-s.shutdownDone:
		return s.shutdownErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *System) shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	root := s.root
	root.mu.Lock()
	root.closed = true
	kids := root.childList()
	root.mu.Unlock()
	var err error
	for i := len(kids) - 1; i >= 0 && err == nil; i-- {
		c := kids[i]
		if c.poison() != nil {
			c.requestStop()
		}
		select {
		case <-c.doneChan():
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		err = s.hardStop(kids, err)
	}
	s.shards.stop()
	s.leaveCluster()
	if s.unobserve != nil {
		s.unobserve()
	}
	s.post.stream.close()
	s.events.close()
	return err
}

// hardStop stops what draining left and waits a grace period for actors
// still inside Receive.
func (s *System) hardStop(kids []*process, cause error) error {
	for _, c := range kids {
		c.requestStop()
	}
	grace, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, c := range kids {
		select {
		case <-c.doneChan():
		case <-grace.Done():
			return fmt.Errorf("actors: shutdown: %w; %s still running after a hard stop", cause, c.ref())
		}
	}
	return fmt.Errorf("actors: shutdown drained partially: %w", cause)
}
