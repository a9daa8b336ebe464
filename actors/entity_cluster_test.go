package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors/internal/lease"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/internal/natstest"
)

// entityNodes starts n nodes on srv with the counter kind of acts, node
// ids "n1".."nN".
func entityNodes(t *testing.T, srv *server.Server, n int, acts *activations, cfg Config, mod func(*ClusterConfig)) map[string]*System {
	t.Helper()
	nodes := map[string]*System{}
	for i := range n {
		id := fmt.Sprint("n", i+1)
		cc := testClusterConfig(clusterConn(t, srv), id)
		if mod != nil {
			mod(&cc)
		}
		nodes[id] = startNode(t, cc, WithDefaults(cfg), WithSharding("counter", acts.counter))
	}
	return nodes
}

// TestEntityActivatesOnce: three nodes sending to one inactive entity at
// once activate it on exactly one node, and every message reaches that
// activation (its count runs 1..N without repeats).
func TestEntityActivatesOnce(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 3, acts, Config{}, nil)
	const each = 10
	var mu sync.Mutex
	var counts []int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for id, s := range nodes {
		for range each {
			wg.Go(func() {
				<-start
				got, err := ask(t, s, entity(t, s, "counter", "race"), incr{})
				if err != nil {
					t.Errorf("from %s: %v", id, err)
					return
				}
				mu.Lock()
				counts = append(counts, got.(int))
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	slices.Sort(counts)
	want := make([]int, 3*each)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(counts, want) {
		t.Errorf("counts %v; want 1..%d from one activation", counts, len(want))
	}
	if n, on := acts.count("race"), acts.on("race"); n != 1 || len(on) != 1 {
		t.Errorf("%d activations, running on %v; want exactly one", n, on)
	}
}

// owner asks the entity, from s, which node runs it.
func owner(t *testing.T, s *System, key string) string {
	t.Helper()
	got, err := ask(t, s, entity(t, s, "counter", key), whoAmI{})
	if err != nil {
		t.Fatalf("whoAmI of %s: %v", key, err)
	}
	return got.(string)
}

// TestEntityGracefulHandover: a node that shuts down passivates its
// entities (their stop hooks run) and deletes their leases, so another
// node activates them at once, with no lease wait.
func TestEntityGracefulHandover(t *testing.T) {
	const ttl = 6 * time.Second // long, so that a TTL wait would show
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 2, acts, Config{}, func(c *ClusterConfig) { c.LeaseTTL = ttl })
	if got := owner(t, nodes["n1"], "h"); got != "n1" {
		t.Fatalf("activated on %s, want n1 (the sender)", got)
	}
	if got := owner(t, nodes["n2"], "h"); got != "n1" {
		t.Fatalf("from n2 the entity answered from %s, want n1", got)
	}
	if err := nodes["n1"].Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if on := acts.on("h"); len(on) != 0 {
		t.Fatalf("after n1's shutdown the entity runs on %v", on)
	}
	moved := time.Now()
	if got := owner(t, nodes["n2"], "h"); got != "n2" {
		t.Errorf("after n1 left the entity answered from %s, want n2", got)
	}
	took := time.Since(moved)
	t.Logf("graceful hand-over: reactivated on n2 in %s (lease TTL %s)", took, ttl)
	if took > ttl/2 {
		t.Errorf("reactivation took %s: a lease wait (TTL %s)", took, ttl)
	}
}

// TestEntityKilledNode: when the owner's NATS connection dies without a
// release (as with SIGKILL), a Request from a survivor that still sends
// to the dead owner re-resolves within its deadline and reaches a new
// activation on a survivor once the lease aged out: within TTL + 1 s.
func TestEntityKilledNode(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 3, acts, Config{}, nil)
	if got := owner(t, nodes["n1"], "k"); got != "n1" {
		t.Fatalf("activated on %s, want n1", got)
	}
	if got := owner(t, nodes["n2"], "k"); got != "n1" { // n2 now sends to n1
		t.Fatalf("from n2: %s", got)
	}
	killed := time.Now()
	kill(t, srv, nodes["n1"])
	got := owner(t, nodes["n2"], "k")
	took := time.Since(killed)
	t.Logf("owner killed: reactivated on %s in %s (lease TTL %s)", got, took, testTTL)
	if got != "n2" {
		t.Errorf("reactivated on %s, want n2 (the sender)", got)
	}
	if took > testTTL+time.Second {
		t.Errorf("reactivation took %s, over the lease TTL %s + 1s", took, testTTL)
	}
	if got := owner(t, nodes["n3"], "k"); got != "n2" {
		t.Errorf("from n3 the entity answered from %s, want n2", got)
	}
}

// kill closes node's NATS connection without releasing anything and
// waits until the server has dropped it, as it does at once for a
// SIGKILLed process's socket (a request sent before that would be lost
// with the connection, and fail only when the node leaves the cluster).
func kill(t *testing.T, srv *server.Server, node *System) {
	t.Helper()
	before := srv.NumClients()
	node.cluster.Load().nc.Close()
	eventually(t, "the server dropped the connection", func() error {
		if n := srv.NumClients(); n >= before {
			return fmt.Errorf("%d clients", n)
		}
		return nil
	})
}

// interval is one message processed by a node.
type interval struct {
	node       string
	start, end time.Time
}

// TestEntityFencing: an owner cut off from NATS stops processing the
// entity's messages when its lease's validity ends, before the lease can
// expire, so the node that activates it next never processes at the same
// time. Both nodes keep sending throughout; without the fencing rule the
// cut-off node, whose local sends never touch NATS, would go on.
func TestEntityFencing(t *testing.T) {
	srv := natstest.Run(t)
	var mu sync.Mutex
	var log []interval
	work := func(key string) Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(slow); ok {
				iv := interval{node: c.Self().Node(), start: time.Now()}
				time.Sleep(20 * time.Millisecond)
				iv.end = time.Now()
				mu.Lock()
				log = append(log, iv)
				mu.Unlock()
				c.Respond(iv.node)
			}
		})
	}
	nodes := map[string]*System{}
	for _, id := range []string{"n1", "n2"} {
		nodes[id] = startNode(t, testClusterConfig(clusterConn(t, srv), id), WithSharding("work", work))
	}
	ref1, ref2 := entity(t, nodes["n1"], "work", "f"), entity(t, nodes["n2"], "work", "f")
	if got, err := ask(t, nodes["n1"], ref1, slow{}); err != nil || got != "n1" {
		t.Fatalf("first message: %v, %v", got, err)
	}
	refused := make(chan error, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopSending := sync.OnceFunc(func() { close(stop); wg.Wait() })
	// Stopped before the nodes shut down, also when the test fails.
	defer stopSending()
	// n1 keeps sending locally.
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, err := nodes["n1"].Request(ctx, ref1, slow{})
			cancel()
			if err != nil {
				select {
				case refused <- err:
				default:
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	nodes["n1"].cluster.Load().nc.Close()
	eventually(t, "n2 took the entity over", func() error {
		got, err := ask(t, nodes["n2"], ref2, slow{})
		if err != nil || got != "n2" {
			return fmt.Errorf("answered %v, %v", got, err)
		}
		return nil
	})
	for range 20 { // both keep sending for a while
		_, _ = ask(t, nodes["n2"], ref2, slow{})
	}
	stopSending()
	select {
	case err := <-refused:
		if !errors.Is(err, ErrNotOwner) && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTimeout) {
			t.Errorf("n1's requests after the fence failed with %v", err)
		}
	default:
		t.Error("n1 went on processing its local requests after its lease lapsed")
	}
	mu.Lock()
	defer mu.Unlock()
	var last1, first2 time.Time
	for _, a := range log {
		switch a.node {
		case "n1":
			last1 = maxTime(last1, a.end)
		case "n2":
			if first2.IsZero() || a.start.Before(first2) {
				first2 = a.start
			}
		}
	}
	if first2.IsZero() || !last1.Before(first2) {
		t.Errorf("n1 processed until %s, n2 from %s: two owners at once", last1.Format(time.StampMicro), first2.Format(time.StampMicro))
	}
	t.Logf("fenced: n1 stopped %s before n2 started", first2.Sub(last1))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestEntityIdleInCluster: an idle entity passivates and deletes its
// lease; its next message, from another node, activates it there.
func TestEntityIdleInCluster(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 2, acts, Config{EntityIdleTimeout: 300 * time.Millisecond}, nil)
	if got := owner(t, nodes["n1"], "i"); got != "n1" {
		t.Fatalf("activated on %s", got)
	}
	leases := nodes["n1"].cluster.Load().entities.bucket
	if _, err := leases.Get(context.Background(), nameKey("counter/i")); err != nil {
		t.Fatalf("the active entity's lease: %v", err)
	}
	eventually(t, "passivated", func() error {
		if on := acts.on("i"); len(on) != 0 {
			return fmt.Errorf("running on %v", on)
		}
		return nil
	})
	eventually(t, "lease released", func() error {
		_, err := leases.Get(context.Background(), nameKey("counter/i"))
		if !errors.Is(err, lease.ErrNotFound) {
			return fmt.Errorf("lease: %v", err)
		}
		return nil
	})
	if got := owner(t, nodes["n2"], "i"); got != "n2" {
		t.Errorf("after passivation the entity answered from %s, want n2", got)
	}
}

// TestEntityStateMoves: an entity that loads its state at Started and
// saves it with PutIf keeps it across a move to another node, in the
// JetStream store.
func TestEntityStateMoves(t *testing.T) {
	srv := natstest.Run(t)
	js, err := jetstream.New(clusterConn(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := state.NewJetStream(ctx, js, state.JetStreamConfig{Bucket: "entity_state", Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	account := func(key string) Actor { return &accountEntity{store: store, key: "account/" + key} }
	nodes := map[string]*System{}
	for _, id := range []string{"n1", "n2"} {
		nodes[id] = startNode(t, testClusterConfig(clusterConn(t, srv), id), WithSharding("account", account))
	}
	ref := entity(t, nodes["n1"], "account", "7")
	for i := range 3 {
		if got, err := ask(t, nodes["n1"], ref, incr{}); err != nil || got != i+1 {
			t.Fatalf("incr %d on n1: %v, %v", i, got, err)
		}
	}
	if err := nodes["n1"].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(t, nodes["n2"], entity(t, nodes["n2"], "account", "7"), incr{}); err != nil || got != 4 {
		t.Errorf("on n2 after the move: %v, %v; want 4", got, err)
	}
}

// accountEntity keeps a counter in a state store: loaded at Started,
// written with PutIf at each change, so a stale owner's write conflicts.
type accountEntity struct {
	store state.Store
	key   string
	n     int
	rev   uint64
}

func (a *accountEntity) Receive(c *Context, msg any) {
	switch msg.(type) {
	case Started:
		e, err := a.store.GetEntry(c.Context(), a.key)
		if err == nil {
			a.n, _ = strconv.Atoi(string(e.Value))
			a.rev = e.Revision
		}
	case incr:
		rev, err := a.store.PutIf(c.Context(), a.key, []byte(strconv.Itoa(a.n+1)), a.rev)
		if err != nil {
			c.Respond(err)
			return
		}
		a.n, a.rev = a.n+1, rev
		c.Respond(a.n)
	}
}

// TestEntityTakesBackItsOwnKey: an entity's key that names this node
// while no activation here holds it — the write of an activation whose
// answer was lost, or whose release failed — is taken back at once by
// the next activation, not waited out for a TTL (30 s here, against the
// request's 5 s deadline).
func TestEntityTakesBackItsOwnKey(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 1, acts, Config{}, func(c *ClusterConfig) { c.LeaseTTL = 30 * time.Second })
	s := nodes["n1"]
	ref := entity(t, s, "counter", "k")
	value, _ := json.Marshal(entityValue{Node: "n1"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv := s.cluster.Load().entities.bucket.KV()
	if _, err := kv.Create(ctx, nameKey(ref.ep.(*entityRef).name), value); err != nil {
		t.Fatal(err)
	}
	got, err := s.Request(ctx, ref, whoAmI{})
	if err != nil || got != "n1" {
		t.Fatalf("Request to an entity whose key already named this node = %v, %v; want an answer from n1 within 5 s", got, err)
	}
}

// TestEntityWaitsOutADepartedHolder: a message for an entity whose lease
// still names a node that has left the cluster (a SIGKILLed node's lease,
// renewed later than its membership) waits for the lease to age out and
// reaches the new activation, rather than being forwarded to the gone
// node and lost.
func TestEntityWaitsOutADepartedHolder(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	nodes := entityNodes(t, srv, 2, acts, Config{}, nil)
	if got := owner(t, nodes["n1"], "k"); got != "n1" {
		t.Fatalf("activated on %s, want n1", got)
	}
	n2 := nodes["n2"]
	c2 := n2.cluster.Load()
	kill(t, srv, nodes["n1"])
	eventually(t, "n2 sees n1 leave", func() error {
		if c2.members.known("n1") {
			return errors.New("n1 still known")
		}
		return nil
	})
	// n1's entity lease, renewed after its membership's last renewal.
	ref := entity(t, n2, "counter", "k")
	value, _ := json.Marshal(entityValue{Node: "n1"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c2.entities.bucket.KV().Put(ctx, nameKey(ref.ep.(*entityRef).name), value); err != nil {
		t.Fatal(err)
	}
	if err := n2.Send(ref, incr{}); err != nil {
		t.Fatal(err)
	}
	got, err := n2.Request(ctx, ref, incr{})
	if err != nil || got != 2 {
		t.Fatalf("after a Send and a Request of incr, the new activation counts %v (%v), want 2: the Send was lost", got, err)
	}
	if got := owner(t, n2, "k"); got != "n2" {
		t.Errorf("k answered from %s, want n2", got)
	}
}
