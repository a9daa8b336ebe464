package actors

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestRemoteNameTakenAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	if _, err := nodes[0].Spawn("unique", nodeEcho); err != nil {
		t.Fatal(err)
	}
	_, err := nodes[1].Spawn("unique", nodeEcho)
	var taken *NameTakenError
	if !errors.As(err, &taken) || taken.Name != "unique" {
		t.Fatalf("Spawn of a name held on another node = %v, want *NameTakenError", err)
	}
	// Names with characters a KV key cannot hold are escaped, not refused.
	for _, name := range []string{"room.42", "a b", "ünï/cødé", "=3D"} {
		if _, err := nodes[0].Spawn(name, nodeEcho); err != nil {
			t.Fatalf("Spawn(%q): %v", name, err)
		}
		if ref := lookup(t, nodes[1], name); ref.Name() != name || ref.Node() != "n1" {
			t.Fatalf("Lookup(%q) = %s", name, ref)
		}
	}
	if _, err := nodes[1].Spawn("=3D", nodeEcho); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("an escaped name is not unique: %v", err)
	}
}

// TestRemoteNameRace: three nodes spawn one name at once; exactly one
// wins, and the others get the error a local duplicate gets.
func TestRemoteNameRace(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	for round := range 5 {
		name := fmt.Sprint("contested-", round)
		var wg sync.WaitGroup
		errs := make([]error, len(nodes))
		start := make(chan struct{})
		for i, s := range nodes {
			wg.Go(func() {
				<-start
				_, errs[i] = s.Spawn(name, nodeEcho)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			var taken *NameTakenError
			switch {
			case err == nil:
				won++
			case !errors.As(err, &taken):
				t.Fatalf("round %d, node %d: %v, want nil or *NameTakenError", round, i+1, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d nodes won the name, want exactly 1 (%v)", round, won, errs)
		}
	}
}

// TestRemoteNodeCrashAgesOut: a node that stops renewing (its connection
// cut, as a SIGKILL would) loses its names within the lease TTL, and the
// other nodes see its actors end.
func TestRemoteNodeCrashAgesOut(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	crashed, survivor := nodes[0], nodes[1]
	if _, err := crashed.Spawn("orphan", nodeEcho); err != nil {
		t.Fatal(err)
	}
	done := func() <-chan struct{} {
		ref := lookup(t, survivor, "orphan")
		done := survivor.Done(ref)
		if _, err := ask(t, survivor, ref, ping{}); err != nil {
			t.Fatal(err) // the watch behind Done is in place once this returns
		}
		return done
	}()
	// Only the channel is kept: the endpoint must not be collected
	// before it reports the end (the ref table holds endpoints weakly).
	runtime.GC()
	runtime.GC()
	cut := time.Now()
	crashed.cluster.Load().nc.Close()
	eventually(t, "the crashed node's name aging out", func() error {
		runtime.GC()
		_, err := survivor.Spawn("orphan", nodeEcho)
		return err
	})
	if took := time.Since(cut); took > 2*testTTL+time.Second {
		t.Errorf("the name came free after %s, lease TTL %s", took, testTTL)
	}
	wait(t, done, "Done of an actor on the crashed node")
	if local, err := survivor.Lookup("orphan"); err != nil || local.Node() != "n2" {
		t.Fatalf("Lookup after the takeover = %s, %v", local, err)
	}
}

// TestRemotePool: members of one pool on three nodes share the load of
// the pool's Ref; a pool name cannot be taken by a lone actor and back.
func TestRemotePool(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	for _, s := range nodes {
		if _, err := s.Spawn("workers", nodeEcho, WithPool()); err != nil {
			t.Fatalf("pool member on %s: %v", nodeOf(s), err)
		}
	}
	if _, err := nodes[0].Spawn("workers", nodeEcho); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a second member on one node = %v, want ErrNameTaken", err)
	}
	if _, err := nodes[0].Spawn("loner", nodeEcho); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[1].Spawn("loner", nodeEcho, WithPool()); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a pool member under a lone actor's name = %v, want ErrNameTaken", err)
	}
	pool := lookup(t, nodes[0], "workers")
	if pool.Node() != "" {
		t.Fatalf("Lookup of a pool = %s on %q, want the pool's Ref", pool, pool.Node())
	}
	served := map[any]int{}
	eventually(t, "every member serving", func() error {
		for range 30 {
			got, err := ask(t, nodes[0], pool, whoAmI{})
			if err != nil {
				return err
			}
			served[got]++
		}
		if len(served) < len(nodes) {
			return fmt.Errorf("served by %v", served)
		}
		return nil
	})
	if other := lookup(t, nodes[2], "workers"); other.Node() != "" {
		t.Fatalf("Lookup of a pool from another member's node = %s", other)
	}
}
