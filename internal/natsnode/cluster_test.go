package natsnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// clusterConfigs returns the configs of n embedded nodes on free loopback
// route ports, each listing every node's route (its own included, as a
// deployment that shares one route list does).
func clusterConfigs(t *testing.T, n int) []Config {
	t.Helper()
	ports := natstest.FreePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	dir := t.TempDir()
	cfgs := make([]Config, n)
	for i, p := range ports {
		cfgs[i] = Config{
			Name:      fmt.Sprintf("node%d", i+1),
			JetStream: JetStreamConfig{Store: StoreFile, Dir: filepath.Join(dir, strconv.Itoa(i+1))},
			Cluster: ClusterConfig{
				Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(p)),
				Routes: routes, Name: "orders", User: "route", Password: "s3cret",
			},
		}
	}
	return cfgs
}

// startCluster starts the nodes of cfgs at once, as three processes
// would, and waits until they have formed one cluster.
func startCluster(t *testing.T, cfgs []Config) []*Node {
	t.Helper()
	nodes := make([]*Node, len(cfgs))
	var wg sync.WaitGroup
	for i := range cfgs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			cfgs[i].Logger, _ = testLogger()
			n, err := Start(ctx, cfgs[i])
			if err != nil {
				t.Errorf("node %d: %v", i+1, err)
				return
			}
			nodes[i] = n
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				closeNode(t, n)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	servers := make([]*server.Server, len(nodes))
	for i, n := range nodes {
		servers[i] = n.server.srv
	}
	natstest.WaitForCluster(t, servers)
	return nodes
}

func TestEmbeddedClusterReplicatesAndSurvivesANode(t *testing.T) {
	nodes := startCluster(t, clusterConfigs(t, 3))
	for i, n := range nodes {
		if got := n.Replicas(); got != 3 {
			t.Errorf("node %d: Replicas = %d, want 3", i+1, got)
		}
		if name := n.server.srv.Name(); name == "" || name == n.server.srv.ID() {
			t.Errorf("node %d: server name %q is not the stable default", i+1, name)
		}
	}
	kv := kvRoundTrip(t, nodes[0], "notes", 3)
	st, err := kv.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas; r != 3 {
		t.Fatalf("bucket replicas = %d", r)
	}
	// The write made through node 1 is read through node 3.
	readThrough(t, nodes[2], "notes", "k", "v")

	closeNode(t, nodes[2])
	// The two survivors keep a quorum: writes and reads go on, through
	// either, once a new stream leader is elected if node 3 led.
	writeThrough(t, nodes[0], "notes", "after", "1")
	readThrough(t, nodes[1], "notes", "after", "1")
}

// writeThrough puts key=value into bucket through n, retrying while the
// bucket elects a leader.
func writeThrough(t *testing.T, n *Node, bucket, key, value string) {
	t.Helper()
	retry(t, "put "+key, func(ctx context.Context) error {
		kv, err := n.JetStream().KeyValue(ctx, bucket)
		if err == nil {
			_, err = kv.PutString(ctx, key, value)
		}
		return err
	})
}

// readThrough reads key from bucket through n and checks its value.
func readThrough(t *testing.T, n *Node, bucket, key, want string) {
	t.Helper()
	retry(t, "get "+key, func(ctx context.Context) error {
		kv, err := n.JetStream().KeyValue(ctx, bucket)
		if err != nil {
			return err
		}
		e, err := kv.Get(ctx, key)
		if err != nil {
			return err
		}
		if string(e.Value()) != want {
			return fmt.Errorf("%s = %q, want %q", key, e.Value(), want)
		}
		return nil
	})
}

// retry calls f with a short deadline until it succeeds or waitTimeout
// passes.
func retry(t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			time.Sleep(50 * time.Millisecond)
		}
	}
}
