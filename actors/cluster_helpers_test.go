package actors

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// ping is the test suite's wire message.
type ping struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// whoAmI asks an actor for its node id.
type whoAmI struct{}

func init() {
	RegisterMessage[ping]("actors.test.ping")
	RegisterMessage[whoAmI]("actors.test.who")
}

// testTTL is the lease TTL of the cluster tests: short, so expiry tests
// take seconds, and long enough (renewed every 700 ms) that a loaded
// machine running the race detector renews in time.
const testTTL = 2 * time.Second

// clusterConn connects to s the way a node should: publishes while
// disconnected fail at once instead of filling the reconnect buffer, and
// reconnection is quick.
func clusterConn(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	return natstest.Connect(t, s, nats.ReconnectBufSize(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.MaxReconnects(-1), nats.ReconnectJitter(0, 0))
}

// testClusterConfig is node's config on nc.
func testClusterConfig(nc *nats.Conn, node string) ClusterConfig {
	return ClusterConfig{
		Conn: nc, Node: node, Service: "svc", LeaseTTL: testTTL,
		Storage: jetstream.MemoryStorage, RequestTimeout: 10 * time.Second,
	}
}

// startNode joins a System to the cluster, shut down when t ends.
func startNode(t testing.TB, cfg ClusterConfig, opts ...Option) *System {
	t.Helper()
	// Joining places 3-replica lease buckets, which took over 30 s under
	// the full -race run on 2 cores: a hang bound, the service's default.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := NewSystemContext(ctx, append([]Option{WithLogger(quiet), WithCluster(cfg)}, opts...)...)
	if err != nil {
		t.Fatalf("node %s: %v", cfg.Node, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("node %s: Shutdown: %v", cfg.Node, err)
		}
	})
	return s
}

// startCluster starts a 3-server NATS cluster and n nodes, node i on
// server i%3, with names "n1".."nN". mod, if not nil, changes a node's
// config before it starts.
func startCluster(t testing.TB, n int, mod func(i int, c *ClusterConfig)) []*System {
	t.Helper()
	servers := natstest.Cluster(t, 3)
	waitForPlacement(t, servers)
	nodes := make([]*System, n)
	for i := range nodes {
		cfg := testClusterConfig(clusterConn(t, servers[i%len(servers)]), fmt.Sprint("n", i+1))
		cfg.Replicas = 3
		if mod != nil {
			mod(i, &cfg)
		}
		nodes[i] = startNode(t, cfg)
	}
	return nodes
}

// waitForPlacement waits until the JetStream meta leader counts every
// server as an online peer: natstest.Cluster waits for a leader only, and
// a 3-replica bucket created before the peers report in fails with "no
// suitable peers for placement".
func waitForPlacement(t testing.TB, servers []*server.Server) {
	t.Helper()
	eventually(t, "JetStream peers online", func() error {
		for _, s := range servers {
			if !s.JetStreamIsCurrent() {
				return fmt.Errorf("%s is not current", s.Name())
			}
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == len(servers) {
				return nil
			}
		}
		return errors.New("the meta leader does not see every peer yet")
	})
}

// eventually retries f until it returns nil, failing after a bound that
// only turns a hang into a failure: NATS interest and KV watches spread
// asynchronously.
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lookup finds name from s, waiting for it to spread.
func lookup(t testing.TB, s *System, name string) Ref {
	t.Helper()
	var ref Ref
	eventually(t, "Lookup("+name+")", func() (err error) {
		ref, err = s.Lookup(name)
		return err
	})
	return ref
}

// nodeEcho replies to whoAmI with its node id, and echoes anything else.
func nodeEcho() Actor {
	return fn(func(c *Context, msg any) {
		switch msg.(type) {
		case Started, Stopping, Stopped, Restarting:
		case whoAmI:
			c.Respond(c.Self().Node())
		default:
			c.Respond(msg)
		}
	})
}

// ask is Request with a test deadline.
func ask(t testing.TB, s *System, to Ref, msg any) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Request(ctx, to, msg)
}

// deadLetters counts s's dead letters with reason, waiting until there
// are at least want.
func waitDeadLetters(t testing.TB, s *System, reason string, want uint64) {
	t.Helper()
	eventually(t, "dead letters "+reason, func() error {
		if got := s.Stats().DeadLetters[reason]; got < want {
			return fmt.Errorf("%d dead letters %q, want %d", got, reason, want)
		}
		return nil
	})
}
