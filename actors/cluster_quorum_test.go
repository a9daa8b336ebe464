package actors

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// quorumTests is the environment variable that runs the tests below, which
// stop and restart two of three NATS servers with file storage: .ci/run
// sets it in a step of its own, after the parallel run of every package.
// Inside that run, on 2 cores, a node's join once hung opening its
// 3-replica bucket for the whole 2 min bound (2026-12-06, once in two full
// runs; 4 of 4 alone and every time in the helper's full run), a load
// effect not yet understood, and a failing CI lands nothing.
const quorumTests = "TROUPE_QUORUM_TESTS"

// needsQuorumRun skips t unless quorumTests is set.
func needsQuorumRun(t *testing.T) {
	t.Helper()
	if os.Getenv(quorumTests) == "" {
		t.Skipf("set %s=1 to run (.ci/run runs it on its own)", quorumTests)
	}
}

// restartableCluster starts a 3-server NATS cluster on disk, like
// natstest.Cluster, and returns its servers and a function restarting
// server i (after a Shutdown) with its ports, name and store.
func restartableCluster(t *testing.T) ([]*server.Server, func(i int)) {
	t.Helper()
	ports := natstest.FreePorts(t, 3)
	dir := t.TempDir()
	routes := make([]*url.URL, len(ports))
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	opts := func(i int) *server.Options {
		o := natstest.Options(filepath.Join(dir, "n"+strconv.Itoa(i+1)))
		o.ServerName = "n" + strconv.Itoa(i+1)
		o.Cluster = server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: ports[i]}
		o.Routes = routes
		return o
	}
	servers := make([]*server.Server, len(ports))
	for i := range servers {
		servers[i] = natstest.RunWith(t, opts(i))
	}
	natstest.WaitForCluster(t, servers)
	waitForPlacement(t, servers)
	return servers, func(i int) { servers[i] = natstest.RunWith(t, opts(i)) }
}

// quorumNode joins a node to servers[i] with the defaults that matter
// here: the 30 s request timeout and 3-replica buckets on disk (a
// restarted server keeps its replicas).
func quorumNode(t *testing.T, servers []*server.Server, i int, id string, opts ...Option) *System {
	t.Helper()
	cfg := testClusterConfig(clusterConn(t, servers[i]), id)
	cfg.Replicas, cfg.Storage, cfg.RequestTimeout = 3, jetstream.FileStorage, DefaultRequestTimeout
	return startNode(t, cfg, opts...)
}

// TestEntityActivatesOnceQuorumReturns: an entity activated while the
// entities bucket's stream has no leader (two of its three servers down,
// as for the 4 to 9 s nats-server takes to elect a new leader after a
// SIGKILL) answers soon after the stream has a leader again. Its lease
// write, sent while no leader could answer it, is never answered; bounded
// by the request timeout (30 s) it held the activation, and the request
// failed at its deadline.
func TestEntityActivatesOnceQuorumReturns(t *testing.T) {
	needsQuorumRun(t)
	servers, restart := restartableCluster(t)
	acts := newActivations()
	s := quorumNode(t, servers, 0, "n1", WithSharding("counter", acts.counter))
	if _, err := ask(t, s, entity(t, s, "counter", "warm"), incr{}); err != nil {
		t.Fatal(err)
	}

	for _, srv := range servers[1:] {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	// Bounded below the request timeout, so a lease write held that long
	// fails the request.
	ctx, cancel := context.WithTimeout(context.Background(), DefaultRequestTimeout-5*time.Second)
	defer cancel()
	answered := make(chan error, 1)
	go func() {
		_, err := s.Request(ctx, entity(t, s, "counter", "k"), incr{})
		answered <- err
	}()
	time.Sleep(time.Second) // the activation's lease write is sent, unanswerable
	restart(1)
	restart(2)
	back := time.Now()
	if err := <-answered; err != nil {
		t.Fatalf("the request sent while the bucket had no leader = %v after its servers were back for %s, want an answer", err, time.Since(back).Round(time.Millisecond))
	}
	t.Logf("answered %s after the servers were back", time.Since(back).Round(time.Millisecond))
}

// TestSingletonStartsOnceQuorumReturns: a singleton whose node left while
// the names bucket's stream had no leader starts on the standby soon
// after the stream has a leader again. The standby's claim, sent while
// no leader could answer it, is never answered; bounded by the request
// timeout (30 s) it kept the singleton down that long.
func TestSingletonStartsOnceQuorumReturns(t *testing.T) {
	needsQuorumRun(t)
	servers, restart := restartableCluster(t)
	in := &instances{running: map[string]int{}}
	holder := quorumNode(t, servers, 1, "n2")
	if _, err := holder.Spawn("stats", in.producer, WithSingleton()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the singleton on n2", func() error { _, err := in.only("n2"); return err })
	standby := quorumNode(t, servers, 0, "n1")
	if _, err := standby.Spawn("stats", in.producer, WithSingleton()); err != nil {
		t.Fatal(err)
	}

	for _, srv := range servers[1:] {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := holder.Shutdown(ctx); err != nil { // its lease, unreleasable, ages out
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the standby's claims are sent, unanswerable
	restart(1)
	restart(2)
	back := time.Now()
	// Bounded below the request timeout, so a claim held that long fails.
	for {
		if _, err := in.only("n1"); err == nil {
			break
		}
		if time.Since(back) > DefaultRequestTimeout-5*time.Second {
			t.Fatalf("the singleton did not start on the standby within %s of its bucket's servers coming back", time.Since(back).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("started %s after the servers were back", time.Since(back).Round(time.Millisecond))
}
