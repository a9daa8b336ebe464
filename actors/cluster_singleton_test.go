package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// instances records which nodes run an actor now.
type instances struct {
	mu      sync.Mutex
	running map[string]int // node → live instances
}

func (in *instances) producer() Actor {
	return fn(func(c *Context, msg any) {
		in.mu.Lock()
		defer in.mu.Unlock()
		switch msg.(type) {
		case Started:
			in.running[c.Self().Node()]++
		case Stopped:
			in.running[c.Self().Node()]--
		case whoAmI:
			c.Respond(c.Self().Node())
		}
	})
}

// only returns the one node among among that runs an instance, or an
// error when none or several do.
func (in *instances) only(among ...string) (string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var on []string
	for _, n := range among {
		for range in.running[n] {
			on = append(on, n)
		}
	}
	if len(on) != 1 {
		return "", fmt.Errorf("running on %v, want exactly one of %v", on, among)
	}
	return on[0], nil
}

// TestSingleton: a singleton spawned on three nodes runs on one; when its
// node stops it moves at once (the name is released), and when its node
// is cut off it moves once the lease has aged out.
func TestSingleton(t *testing.T) {
	srv := natstest.Run(t)
	nodes := map[string]*System{}
	for _, id := range []string{"n1", "n2", "n3"} {
		nodes[id] = startNode(t, testClusterConfig(clusterConn(t, srv), id))
	}
	in := &instances{running: map[string]int{}}
	for id, s := range nodes {
		if _, err := s.Spawn("stats", in.producer, WithSingleton()); err != nil {
			t.Fatalf("Spawn on %s: %v", id, err)
		}
	}
	var holder string
	eventually(t, "one instance", func() (err error) { holder, err = in.only("n1", "n2", "n3"); return err })
	for id, s := range nodes {
		if got, err := ask(t, s, lookup(t, s, "stats"), whoAmI{}); err != nil || got != holder {
			t.Errorf("from %s the singleton answered %v, %v; want %s", id, got, err, holder)
		}
	}
	time.Sleep(testTTL) // the standbys keep trying: still one
	if again, err := in.only("n1", "n2", "n3"); err != nil || again != holder {
		t.Fatalf("after a lease TTL: %v, %v", again, err)
	}

	// A graceful stop releases the name: a standby starts it within one
	// retry, with no lease wait.
	stopped := time.Now()
	if err := nodes[holder].Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	rest := others(nodes, holder)
	var next string
	eventually(t, "the singleton moved", func() (err error) { next, err = in.only(rest...); return err })
	t.Logf("graceful stop: the singleton moved from %s to %s in %s", holder, next, time.Since(stopped))

	// Cut off, as a SIGKILL would: the survivor starts it once the lease
	// aged out. The cut-off node's own instance is no longer the
	// cluster's: it cannot reach NATS.
	cut := time.Now()
	nodes[next].cluster.Load().nc.Close()
	survivor := others(nodes, holder, next)[0]
	eventually(t, "the singleton moved off the cut-off node", func() error {
		_, err := in.only(survivor)
		return err
	})
	took := time.Since(cut)
	t.Logf("node cut off: the singleton moved from %s to %s in %s (lease TTL %s)", next, survivor, took, testTTL)
	if took > 2*testTTL+2*time.Second {
		t.Errorf("failover took %s; lease TTL %s", took, testTTL)
	}
}

// others returns the ids of nodes other than except.
func others(nodes map[string]*System, except ...string) []string {
	var ids []string
	for id := range nodes {
		skip := false
		for _, e := range except {
			skip = skip || id == e
		}
		if !skip {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestSingletonNeedsATopLevelName: a singleton without a name, or a child
// one, is refused; outside a cluster WithSingleton changes nothing.
func TestSingletonNeedsATopLevelName(t *testing.T) {
	srv := natstest.Run(t)
	s := startNode(t, testClusterConfig(clusterConn(t, srv), "n1"))
	if _, err := s.Spawn("", nodeEcho, WithSingleton()); !errors.Is(err, errSingleton) {
		t.Errorf("an anonymous singleton: %v", err)
	}
	child := make(chan error, 1)
	if _, err := s.Spawn("parent", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(Started); ok {
				_, err := c.Spawn("kid", nodeEcho, WithSingleton())
				child <- err
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, child, "the child's spawn"); !errors.Is(err, errSingleton) {
		t.Errorf("a child singleton: %v", err)
	}
	local := NewSystem(WithLogger(quiet))
	defer func() { _ = local.Shutdown(context.Background()) }()
	if ref, err := local.Spawn("alone", nodeEcho, WithSingleton()); err != nil || ref.IsZero() {
		t.Errorf("outside a cluster: %v, %v", ref, err)
	}
}
