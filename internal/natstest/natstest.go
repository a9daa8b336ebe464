// Package natstest starts real NATS servers for tests: the embedded
// nats-server/v2 package, in-process, on free loopback ports, with JetStream
// on in the test's temporary directory, in the style of nats-server's own
// test.RunServer. Cluster starts several joined by real routes on loopback,
// the way Troupe's embedded servers form a cluster in production. Servers
// shut down when the test ends.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyTimeout bounds how long a server may take to accept clients, and a
// cluster to elect its JetStream meta leader. Generous: a loaded 2-core CI
// machine running the race detector is slow to elect.
const readyTimeout = 30 * time.Second

// Options returns the options Run starts a server with: loopback, a free
// client port, JetStream stored under dir, no logging. Tests change them
// before calling RunWith.
func Options(dir string) *server.Options {
	return &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		NoLog:     true,
		NoSigs:    true,
		JetStream: true,
		StoreDir:  filepath.Join(dir, "jetstream"),
	}
}

// Run starts a single JetStream-enabled server.
func Run(t testing.TB) *server.Server {
	t.Helper()
	return RunWith(t, Options(t.TempDir()))
}

// RunWith starts a server with opts and waits until it accepts clients.
func RunWith(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		t.Fatalf("natstest: server not ready within %s", readyTimeout)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Cluster starts n JetStream servers joined by routes on loopback, named
// "n1".."nN" in a cluster called "test", and waits until every route is up
// and JetStream has a meta leader. Clustered JetStream needs every server's
// routes configured from the start, so the cluster ports are picked free
// first and each server lists them all (a server ignores the route to
// itself).
func Cluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	dir := t.TempDir()
	ports := FreePorts(t, n)
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	servers := make([]*server.Server, 0, n)
	for i := range n {
		opts := Options(filepath.Join(dir, "n"+strconv.Itoa(i+1)))
		opts.ServerName = "n" + strconv.Itoa(i+1)
		opts.Cluster = server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: ports[i]}
		opts.Routes = routes
		servers = append(servers, RunWith(t, opts))
	}
	WaitForCluster(t, servers)
	return servers
}

// FreePorts returns n distinct loopback ports that were free a moment ago:
// each is bound to port 0 and released. Another process could take one in
// between; on a test machine that is rare enough to accept. Clustered
// servers need them: each must know every route's port before it starts.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	listeners := make([]net.Listener, n)
	ports := make([]int, n)
	for i := range listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
		listeners[i], ports[i] = ln, ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range listeners {
		_ = ln.Close()
	}
	return ports
}

// WaitForCluster waits until every server routes to every other, one of
// them is JetStream's meta leader, and the leader sees every server as an
// online JetStream peer. Before the last, creating a replicated stream
// fails with "no suitable peers for placement".
func WaitForCluster(t testing.TB, servers []*server.Server) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		routed, leader, peers := true, false, 0
		for _, s := range servers {
			if s.NumRoutes() < len(servers)-1 {
				routed = false
			}
			if s.JetStreamIsLeader() {
				leader, peers = true, len(s.JetStreamClusterPeers())
			}
		}
		if routed && leader && peers == len(servers) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: cluster of %d not formed within %s (routes ok %v, leader %v, peers %d)", len(servers), readyTimeout, routed, leader, peers)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Connect returns a client connection to s, closed when the test ends.
func Connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("natstest: connecting to %s: %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// String describes a server for test logs.
func String(s *server.Server) string {
	return fmt.Sprintf("%s (%s)", s.Name(), s.ClientURL())
}
