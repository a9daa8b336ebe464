package actors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestJoinClusterLate joins Systems made before their connection, as a
// service does: anonymous actors may run already, named ones spawned
// after the join are known cluster-wide.
func TestJoinClusterLate(t *testing.T) {
	srv := natstest.Run(t)
	join := func(node string) *System {
		s := NewSystem(WithLogger(quiet))
		t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
		if _, err := s.Spawn("", nodeEcho); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.JoinCluster(ctx, testClusterConfig(clusterConn(t, srv), node)); err != nil {
			t.Fatalf("JoinCluster(%s): %v", node, err)
		}
		return s
	}
	n1, n2 := join("n1"), join("n2")
	if _, err := n2.Spawn("echo", nodeEcho); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(t, n1, lookup(t, n1, "echo"), whoAmI{}); err != nil || got != "n2" {
		t.Fatalf("the echo answered %v, %v; want n2", got, err)
	}
	var taken *NameTakenError
	if _, err := n1.Spawn("echo", nodeEcho); !errors.As(err, &taken) {
		t.Fatalf("Spawn of a name taken on the other node = %v, want *NameTakenError", err)
	}
	ctx := context.Background()
	if err := n1.JoinCluster(ctx, testClusterConfig(clusterConn(t, srv), "n1")); err == nil {
		t.Fatal("a second JoinCluster succeeded")
	}
}

// TestJoinClusterAfterNamesFails: a name spawned before the join would be
// unknown to the cluster, so the join refuses, and so it does after a
// Subscribe; the System stays local and usable.
func TestJoinClusterAfterNamesFails(t *testing.T) {
	srv := natstest.Run(t)
	for _, before := range []string{"named spawn", "subscribe"} {
		s := NewSystem(WithLogger(quiet))
		ref, err := s.Spawn("", nodeEcho)
		if err != nil {
			t.Fatal(err)
		}
		if before == "named spawn" {
			_, err = s.Spawn("early", nodeEcho)
		} else {
			_, err = s.Subscribe(ref, "orders.>")
		}
		if err != nil {
			t.Fatal(err)
		}
		err = s.JoinCluster(context.Background(), testClusterConfig(clusterConn(t, srv), "n1"))
		if !errors.Is(err, errJoinLate) {
			t.Errorf("JoinCluster after a %s = %v, want errJoinLate", before, err)
		}
		if s.cluster.Load() != nil {
			t.Errorf("after a %s the failed join left the System in a cluster", before)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	stopped := NewSystem(WithLogger(quiet))
	if err := stopped.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := stopped.JoinCluster(context.Background(), testClusterConfig(clusterConn(t, srv), "n1")); !errors.Is(err, ErrStopped) {
		t.Fatalf("JoinCluster after Shutdown = %v, want ErrStopped", err)
	}
}
