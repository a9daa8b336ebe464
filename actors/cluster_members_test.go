package actors

import (
	"errors"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestMembershipConfirmsSilence: a node whose renewals the watch has not
// delivered for a TTL is not declared gone while its lease is in the
// bucket (a watch fallen behind on a loaded machine); once its lease is
// gone, it is.
func TestMembershipConfirmsSilence(t *testing.T) {
	srv := natstest.Run(t)
	n1 := startNode(t, testClusterConfig(clusterConn(t, srv), "n1"))
	n2 := startNode(t, testClusterConfig(clusterConn(t, srv), "n2"))
	m := n1.cluster.Load().members
	eventually(t, "n1 sees n2", func() error {
		if !m.known("n2") {
			return errors.New("not yet")
		}
		return nil
	})
	silence := func() {
		m.mu.Lock()
		m.seen["n2"] = time.Now().Add(-time.Hour)
		m.lastDown = time.Now().Add(-time.Hour)
		m.mu.Unlock()
		m.expire()
	}
	silence()
	if !m.known("n2") {
		t.Fatal("n2, alive and renewing, was declared gone because its renewals were not seen")
	}
	kill(t, srv, n2)
	eventually(t, "n2's lease aged out and n2 declared gone", func() error {
		silence()
		if m.known("n2") {
			return errors.New("not yet")
		}
		return nil
	})
}
