package actors

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestNameClaimNotVisible: a node spawning a name another node holds —
// as a singleton's standby does every TTL/3 — never shows its own
// process under the name while it claims it: Lookup keeps finding the
// holder. (It found the unclaimed local process, which answered requests
// as a second instance: the showcase's stats "moved" 0.3 s after its
// node was killed, answering zero counts.)
func TestNameClaimNotVisible(t *testing.T) {
	srv := natstest.Run(t)
	a := startNode(t, testClusterConfig(clusterConn(t, srv), "n1"))
	b := startNode(t, testClusterConfig(clusterConn(t, srv), "n2"))
	nop := func() Actor { return fn(func(*Context, any) {}) }
	if _, err := a.Spawn("x", nop); err != nil {
		t.Fatal(err)
	}
	lookup(t, b, "x")
	stop := make(chan struct{})
	var wrong, lookups atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ref, err := b.Lookup("x"); err == nil && ref.Node() != "n1" {
				wrong.Add(1)
			}
			lookups.Add(1)
		}
	})
	for range 200 {
		var taken *NameTakenError
		if _, err := b.Spawn("x", nop); !errors.As(err, &taken) {
			t.Fatalf("Spawn of a name held by another node = %v, want a *NameTakenError", err)
		}
	}
	close(stop)
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("Lookup on the claiming node found its unclaimed process %d times of %d", n, lookups.Load())
	}
}
