package actors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestClusterInfo: each node describes the cluster as it sees it — both
// members sorted by id with its own flagged, the names and entity
// activations it holds, the server it is connected to without the
// password — and a node that stopped moves to Departed. A System outside
// a cluster has nothing to describe.
func TestClusterInfo(t *testing.T) {
	srv := natstest.Run(t)
	acts := newActivations()
	n1 := startNode(t, testClusterConfig(clusterConn(t, srv), "n1"), WithSharding("counter", acts.counter))
	n2 := startNode(t, testClusterConfig(clusterConn(t, srv), "n2"), WithSharding("counter", acts.counter))
	if _, err := n2.Spawn("echo", replier(nil)); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(t, n1, entity(t, n1, "counter", "a"), incr{}); err != nil || got != 1 {
		t.Fatalf("the entity's first incr: %v, %v", got, err)
	}

	for i, s := range []*System{n1, n2} {
		self := fmt.Sprint("n", i+1)
		eventually(t, self+" sees both members", func() error {
			info, ok := s.Cluster()
			if !ok {
				return fmt.Errorf("%s: Cluster() reports no cluster", self)
			}
			if len(info.Members) != 2 || info.Members[0].Node != "n1" || info.Members[1].Node != "n2" {
				return fmt.Errorf("%s sees members %+v, want n1 and n2", self, info.Members)
			}
			return nil
		})
		info, _ := s.Cluster()
		if info.Node != self || info.Service != "svc" || info.LeaseTTL != testTTL || info.Replicas != 1 || !info.Connected {
			t.Errorf("%s: %+v", self, info)
		}
		if !strings.HasPrefix(info.Server, "nats://127.0.0.1:") {
			t.Errorf("%s: Server = %q, want the server's URL", self, info.Server)
		}
		for _, m := range info.Members {
			if m.Self != (m.Node == self) {
				t.Errorf("%s: member %s has Self %v", self, m.Node, m.Self)
			}
			// Renewals come every TTL/3; a watch lagging on a loaded
			// machine is read back from the bucket after about a TTL.
			if age := time.Since(m.Renewed); age < 0 || age > 2*testTTL {
				t.Errorf("%s: member %s renewed %s ago, want within two TTLs (%s)", self, m.Node, age, 2*testTTL)
			}
		}
	}
	if i1, _ := n1.Cluster(); i1.Names != 0 || i1.Entities["counter"] != 1 || len(i1.Departed) != 0 {
		t.Errorf("n1 holds %d names, entities %v, departed %v; want 0, counter:1, none", i1.Names, i1.Entities, i1.Departed)
	}
	if i2, _ := n2.Cluster(); i2.Names != 1 || i2.Entities["counter"] != 0 {
		t.Errorf("n2 holds %d names, entities %v; want the one name, no activation", i2.Names, i2.Entities)
	}

	if err := n2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "n1 sees n2 leave", func() error {
		info, _ := n1.Cluster()
		if len(info.Members) != 1 || !info.Members[0].Self || len(info.Departed) != 1 || info.Departed[0].Node != "n2" {
			return fmt.Errorf("members %+v, departed %+v; want n1 alone, n2 departed", info.Members, info.Departed)
		}
		return nil
	})

	local := NewSystem(WithLogger(quiet))
	defer func() { _ = local.Shutdown(context.Background()) }()
	if info, ok := local.Cluster(); ok {
		t.Errorf("a System outside a cluster: Cluster() = %+v, true", info)
	}
}

// TestClusterInfoRedactsServer: the server URL of a connection made with
// a password, or a token, in its URL shows neither.
func TestClusterInfoRedactsServer(t *testing.T) {
	for name, c := range map[string]struct {
		auth       func(*server.Options)
		user, want string
	}{
		"password": {func(o *server.Options) { o.Username, o.Password = "troupe", "s3cret-pass" }, "troupe:s3cret-pass", "troupe:xxxxx@"},
		"token":    {func(o *server.Options) { o.Authorization = "s3cret-pass" }, "s3cret-pass", "xxxxx@"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := natstest.Options(t.TempDir())
			c.auth(opts)
			srv := natstest.RunWith(t, opts)
			nc, err := nats.Connect(strings.Replace(srv.ClientURL(), "nats://", "nats://"+c.user+"@", 1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			info, ok := startNode(t, testClusterConfig(nc, "n1")).Cluster()
			if !ok || strings.Contains(info.Server, "s3cret-pass") || !strings.Contains(info.Server, "nats://"+c.want+"127.0.0.1:") {
				t.Errorf("Cluster().Server = %q, %v; want the URL with %s", info.Server, ok, c.want)
			}
		})
	}
}
