package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors/wasm"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/inspect"
	"github.com/troupehq/troupe/internal/natstest"
	"github.com/troupehq/troupe/internal/wstest"
	"github.com/troupehq/troupe/versioning"
)

// orderCreated is the cluster tests' publication.
type orderCreated struct {
	ID int `json:"id"`
}

func init() { actors.RegisterMessage[orderCreated]("service.test.order_created") }

// nodeActor answers a routed request with the node it runs on.
func nodeActor() actors.Actor {
	return actorFunc(func(c *actors.Context, msg any) {
		if _, ok := msg.(*actors.HTTPRequest); ok {
			c.Respond(c.Self().Node())
		}
	})
}

// counter subscribes to orders.> when it starts and counts each order.
type counter struct {
	mu   sync.Mutex
	seen map[int]int
}

func (k *counter) producer() actors.Actor {
	return actorFunc(func(c *actors.Context, msg any) {
		switch m := msg.(type) {
		case actors.Started:
			if _, err := c.System().Subscribe(c.Self(), "orders.>"); err != nil {
				panic(err)
			}
		case orderCreated:
			k.mu.Lock()
			k.seen[m.ID]++
			k.mu.Unlock()
		}
	})
}

func (k *counter) count(id int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.seen[id]
}

// startAll runs services concurrently: clustered JetStream places the
// lease buckets only once every replica's server is up, so each node's
// start waits for the others.
func startAll(t *testing.T, envs []map[string]string, opts [][]Option) []*running {
	t.Helper()
	nodes, err := tryStartAll(t, envs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// tryStartAll is startAll reporting a node that did not start; the nodes
// are stopped then.
func tryStartAll(t *testing.T, envs []map[string]string, opts [][]Option) ([]*running, error) {
	t.Helper()
	nodes := make([]*running, len(envs))
	var wg sync.WaitGroup
	for i := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i] = startAsync(t, envs[i], opts[i]...)
		}()
	}
	wg.Wait()
	for i, n := range nodes {
		var err error
		select {
		case <-n.svc.Started():
			continue
		case <-n.done:
			err = fmt.Errorf("node %d: Run: %w", i+1, n.err)
		case <-time.After(natsWait):
			err = fmt.Errorf("node %d did not start", i+1)
		}
		for _, n := range nodes {
			n.cancel()
			<-n.done
		}
		return nil, err
	}
	return nodes, nil
}

// startRouted runs one service per opts, each with an embedded NATS
// server clustered with the others over routes on loopback and the actor
// cluster on. The route ports are picked free a moment before the servers
// bind them; another process can take one in between, so a start that
// fails on a taken port is tried again on fresh ports.
func startRouted(t *testing.T, opts [][]Option) []*running {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ports := natstest.FreePorts(t, len(opts))
		routes := make([]string, len(ports))
		for i, p := range ports {
			routes[i] = "nats://127.0.0.1:" + strconv.Itoa(p)
		}
		envs := make([]map[string]string, len(ports))
		for i, p := range ports {
			envs[i] = map[string]string{
				"ACTORS__CLUSTER__ENABLED":    "true",
				"ACTORS__SHARDING__LEASE_TTL": "2s",
				"NATS__SERVER_NAME":           "n" + strconv.Itoa(i+1),
				"NATS__CLUSTER__LISTEN":       "127.0.0.1:" + strconv.Itoa(p),
				"NATS__CLUSTER__ROUTES":       strings.Join(routes, ","),
				"NATS__JETSTREAM__STORE":      "memory",
			}
		}
		nodes, err := tryStartAll(t, envs, opts)
		if err == nil {
			return nodes
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; trying other ports", attempt, err)
	}
}

// checkClusterView checks that GET /inspect/cluster on r's admin listener
// lists every node of want (once membership has spread), r's as self,
// connected to NATS and holding a name.
func checkClusterView(t *testing.T, r *running, self string, want []string) {
	t.Helper()
	var v inspect.ClusterView
	waitFor(t, func() bool {
		resp, body := get(t, r.adminBase()+"/inspect/cluster")
		v = inspect.ClusterView{}
		return resp.StatusCode == http.StatusOK && json.Unmarshal(body, &v) == nil && len(v.Members) == len(want)
	})
	var nodes []string
	for _, m := range v.Members {
		nodes = append(nodes, m.Node)
		if m.Self != (m.Node == self) {
			t.Errorf("node %s: member %s has self %v", self, m.Node, m.Self)
		}
	}
	if !v.Clustered || v.Node != self || v.Service != "test" || !v.Connected || !strings.HasPrefix(v.Server, "nats://") ||
		v.Names < 1 || fmt.Sprint(nodes) != fmt.Sprint(want) {
		t.Errorf("GET /inspect/cluster on %s: %+v; want members %v, connected, its names", self, v, want)
	}
}

// startAsync is start without waiting for the service to be started.
func startAsync(t *testing.T, env map[string]string, opts ...Option) *running {
	logs := &syncBuffer{}
	opts = append([]Option{WithConfigLoader(testLoader(t, env)), WithLogOutput(logs)}, opts...)
	svc, err := New("test", opts...)
	if err != nil {
		t.Errorf("New: %v", err)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{svc: svc, logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() { r.err = svc.Run(ctx); close(r.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
		}
	})
	return r
}

// clusterAPI routes /api/v1/where to the actor named "where", wherever
// in the cluster it runs.
func clusterAPI() *versioning.API {
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/where", actors.Route("where"))
	})
}

// TestActorsCluster runs three services, each with an embedded NATS server
// clustered with the others over routes on loopback: an actor route on
// node 1 reaches the named actor spawned on node 2, and a publication on
// node 1 reaches a subscriber on node 3, and one on node 1, once each.
func TestActorsCluster(t *testing.T) {
	withStateHome(t)
	local, remote := &counter{seen: map[int]int{}}, &counter{seen: map[int]int{}}
	// The same singleton on every node, as a service's code would have it.
	var singletons atomic.Int64
	singleton := WithActor("stats", func() actors.Actor {
		return actorFunc(func(_ *actors.Context, msg any) {
			switch msg.(type) {
			case actors.Started:
				singletons.Add(1)
			case actors.Stopped:
				singletons.Add(-1)
			}
		})
	}, actors.WithSingleton())
	nodes := startRouted(t, [][]Option{
		{WithAPI(clusterAPI()), WithActor("orders-1", local.producer), singleton},
		{WithAPI(clusterAPI()), WithActor("where", nodeActor), singleton},
		{WithAPI(clusterAPI()), WithActor("orders-3", remote.producer), singleton},
	})
	waitFor(t, func() bool { return singletons.Load() == 1 })
	for i, n := range nodes {
		checkClusterView(t, n, "n"+strconv.Itoa(i+1), []string{"n1", "n2", "n3"})
	}
	if _, page := get(t, nodes[1].adminBase()+"/console/cluster"); !strings.Contains(string(page), "n2 <span class=\"muted\">(this node)</span>") ||
		!strings.Contains(string(page), "<td>n3") {
		t.Errorf("the console's Cluster page on n2:\n%s", page)
	}

	// actors.sharding.lease_ttl is the lease buckets' TTL.
	js, err := jetstream.New(nodes[0].svc.NATS())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), "troupe_test_names")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := kv.Status(context.Background()); err != nil || st.TTL() != 2*time.Second || st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 3 {
		t.Errorf("the names bucket: %v, %v; want lease_ttl 2s, 3 replicas", st, err)
	}

	resp, body := get(t, nodes[0].base()+"/api/v1/where")
	if resp.StatusCode != http.StatusOK || body == nil || string(body) != `"n2"`+"\n" && string(body) != `"n2"` {
		t.Fatalf("GET /where on node 1 = %d %s, want the actor on n2", resp.StatusCode, body)
	}

	// Interest in orders.> reaches node 1 through NATS shortly after the
	// subscriber started: warm up until node 3 has seen one.
	pub := nodes[0].svc.Actors()
	waitFor(t, func() bool {
		if _, err := pub.Publish("orders.warmup", orderCreated{ID: -1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return remote.count(-1) > 0
	})
	if n, err := pub.Publish("orders.created", orderCreated{ID: 1}); err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v; want the one local subscriber", n, err)
	}
	if _, err := pub.Publish("orders.created", orderCreated{ID: 2}); err != nil {
		t.Fatal(err)
	}
	// Order is kept per sender and receiver: once 2 arrived, 1 had.
	waitFor(t, func() bool { return remote.count(2) == 1 && local.count(2) == 1 })
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	if r, l := remote.count(1), local.count(1); r != 1 || l != 1 {
		t.Errorf("order 1 reached node 3 %d times and node 1 %d times, want once each", r, l)
	}
	if n := singletons.Load(); n != 1 {
		t.Errorf("the singleton runs %d times in the cluster, want once", n)
	}

	// The cluster stops node by node: the last node has no JetStream
	// quorum left, and stops in about a second all the same (what it
	// cannot release ages out) rather than waiting out nats.go's 5 s
	// request timeout per watch and lease.
	for i, n := range nodes {
		began := time.Now()
		if err := n.stop(t); err != nil {
			t.Errorf("node %d: %v", i+1, err)
		}
		if took := time.Since(began); took > 4*time.Second {
			t.Errorf("node %d took %s to stop", i+1, took)
		}
	}
}

// TestActorsClusterNATSUnavailable: with the cluster's NATS gone, an actor
// route to an actor on another node answers 503 problem+json at once,
// with actors.ErrUnavailable as the logged cause, rather than hanging.
func TestActorsClusterNATSUnavailable(t *testing.T) {
	srv := natstest.Run(t)
	env := map[string]string{
		"ACTORS__CLUSTER__ENABLED":    "true",
		"ACTORS__SHARDING__LEASE_TTL": "2s",
		"NATS__URL":                   srv.ClientURL(),
		"NATS__JETSTREAM__STORE":      "memory",
	}
	nodes := startAll(t, []map[string]string{env, env}, [][]Option{
		{WithAPI(clusterAPI())},
		{WithAPI(clusterAPI()), WithActor("where", nodeActor)},
	})
	waitFor(t, func() bool {
		resp, _ := get(t, nodes[0].base()+"/api/v1/where")
		return resp.StatusCode == http.StatusOK
	})

	srv.Shutdown()
	srv.WaitForShutdown()
	waitReadiness(t, nodes[0], "nats", "fail")
	client := &http.Client{Timeout: 10 * time.Second}
	began := time.Now()
	resp, err := client.Get(nodes[0].base() + "/api/v1/where")
	if err != nil {
		t.Fatalf("the route hung: %v", err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("with NATS down the route answered %d %v %s, want 503 problem+json with Retry-After", resp.StatusCode, resp.Header, body)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the 503 took %s; sends to an unreachable node fail fast", took)
	}
	if logs := nodes[0].logs.String(); !strings.Contains(logs, actors.ErrUnavailable.Error()) {
		t.Errorf("the logged cause is not actors.ErrUnavailable:\n%s", logs)
	}
}

// TestActorsClusterNamesAreClusterWide: with actors.cluster.enabled a name
// is taken in the whole cluster, so a second node spawning it fails to
// start; without it two services on one NATS each have their own.
func TestActorsClusterNamesAreClusterWide(t *testing.T) {
	srv := natstest.Run(t)
	env := map[string]string{"NATS__URL": srv.ClientURL(), "NATS__JETSTREAM__STORE": "memory"}
	alone := []*running{
		start(t, env, WithActor("where", nodeActor)),
		start(t, env, WithActor("where", nodeActor)),
	}
	for i, r := range alone {
		ref, err := r.svc.Actors().Lookup("where")
		if err != nil || ref.Node() != "" {
			t.Errorf("service %d without the cluster: Lookup = %v on %q, %v; want its own, local actor", i+1, ref, ref.Node(), err)
		}
	}

	resp, body := get(t, alone[0].adminBase()+"/inspect/cluster")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"clustered":false`) {
		t.Errorf("GET /inspect/cluster without the cluster = %d %s, want 200 saying it runs on one node", resp.StatusCode, body)
	}

	env["ACTORS__CLUSTER__ENABLED"] = "true"
	first := start(t, env, WithActor("where", nodeActor))
	ref, err := first.svc.Actors().Lookup("where")
	if err != nil || ref.Node() == "" {
		t.Fatalf("in the cluster: Lookup = %v on %q, %v; want an actor on a named node", ref, ref.Node(), err)
	}
	logs := &syncBuffer{}
	second, err := New("test", WithConfigLoader(testLoader(t, env)), WithLogOutput(logs), WithActor("where", nodeActor))
	if err != nil {
		t.Fatal(err)
	}
	var taken *actors.NameTakenError
	if err := runToFailure(t, second); !errors.As(err, &taken) {
		t.Fatalf("a second node spawning a taken name: Run = %v, want *actors.NameTakenError", err)
	}
}

// TestActorsClusterJoinTimeout: a node whose NATS cluster never forms
// (its one route leads nowhere, so JetStream has no quorum) fails to
// start after actors.cluster.join_timeout, naming the key.
func TestActorsClusterJoinTimeout(t *testing.T) {
	withStateHome(t)
	ports := natstest.FreePorts(t, 2)
	svc, err := New("test", WithConfigLoader(testLoader(t, map[string]string{
		"ACTORS__CLUSTER__ENABLED":      "true",
		"ACTORS__CLUSTER__JOIN_TIMEOUT": "1s",
		"NATS__CLUSTER__LISTEN":         "127.0.0.1:" + strconv.Itoa(ports[0]),
		"NATS__CLUSTER__ROUTES":         "nats://127.0.0.1:" + strconv.Itoa(ports[1]),
		"NATS__JETSTREAM__STORE":        "memory",
	})), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	err = runToFailure(t, svc)
	if err == nil || !strings.Contains(err.Error(), "actors.cluster.join_timeout") || !strings.Contains(err.Error(), "within 1s") {
		t.Fatalf("Run = %v, want a failure naming actors.cluster.join_timeout", err)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("Run failed after %s; join_timeout is 1s", took)
	}
}

// TestActorsClusterComponentsArePools: two nodes loading a component of
// one name both start, since in a cluster a component is a pool member,
// and requests from one node are balanced across both.
func TestActorsClusterComponentsArePools(t *testing.T) {
	srv := natstest.Run(t)
	envs := make([]map[string]string, 2)
	for i := range envs {
		dir := t.TempDir()
		writeComponent(t, dir, "echo", "v"+strconv.Itoa(i+1), "")
		envs[i] = componentEnv(dir, t.TempDir(), "ACTORS__CLUSTER__ENABLED", "true",
			"NATS__URL", srv.ClientURL(), "NATS__JETSTREAM__STORE", "memory")
	}
	nodes := startAll(t, envs, [][]Option{nil, nil})
	seen := map[string]int{}
	for range 40 {
		got, err := nodes[0].ask(t, "echo", "v")
		if err != nil {
			t.Fatal(err)
		}
		seen[string(got.([]byte))]++
	}
	if seen["v1"] == 0 || seen["v2"] == 0 {
		t.Errorf("replies by node's version: %v; want both nodes' components to answer", seen)
	}
	// A guest's error reply (kv_put refused: no kv grant) crosses nodes as
	// the same *wasm.GuestError, its message kept for the logs.
	for range 20 {
		got, err := nodes[0].ask(t, "echo", "kx")
		var ge *wasm.GuestError
		if e, ok := got.(*wasm.GuestError); ok {
			ge = e
		}
		if err != nil || ge == nil || ge.Component != "echo" {
			t.Fatalf("a guest's error reply = %#v, %v; want a *wasm.GuestError from echo", got, err)
		}
	}
}

// TestActorsClusterKeepsRealtimeRooms: with the actor cluster on, a
// realtime room still delivers to its members on the node (its
// publications are not registered for the wire, so they stay per node).
func TestActorsClusterKeepsRealtimeRooms(t *testing.T) {
	r := start(t, map[string]string{"ACTORS__CLUSTER__ENABLED": "true", "NATS__JETSTREAM__STORE": "memory"}, WithAPI(realtimeAPI()))
	c := mustDialWS(t, r, "/api/v1/rooms/a", nil)
	wstest.ReadType(t, c, "joined")
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"publish","room":"chat.a","data":1}`))
	if m := wstest.ReadType(t, c, "message"); m["room"] != "chat.a" {
		t.Errorf("publishing to the room: %v", m)
	}
}
