package actors

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestEntityActivatesOnceQuorumReturns: an entity activated while the
// entities bucket's stream has no leader (two of its three servers down,
// as for the 4 to 9 s nats-server takes to elect a new leader after a
// SIGKILL) answers soon after the stream has a leader again. Its lease
// write, sent while no leader could answer it, is never answered; bounded
// by the request timeout (30 s) it held the activation, and the request
// failed at its deadline.
func TestEntityActivatesOnceQuorumReturns(t *testing.T) {
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
	acts := newActivations()
	cfg := testClusterConfig(clusterConn(t, servers[0]), "n1")
	cfg.Replicas, cfg.Storage, cfg.RequestTimeout = 3, jetstream.FileStorage, DefaultRequestTimeout
	s := startNode(t, cfg, WithSharding("counter", acts.counter))
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
	for i := range servers[1:] {
		servers[i+1] = natstest.RunWith(t, opts(i+1))
	}
	back := time.Now()
	if err := <-answered; err != nil {
		t.Fatalf("the request sent while the bucket had no leader = %v after its servers were back for %s, want an answer", err, time.Since(back).Round(time.Millisecond))
	}
	t.Logf("answered %s after the servers were back", time.Since(back).Round(time.Millisecond))
}
