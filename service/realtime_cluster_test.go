package service

import (
	"testing"
	"time"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/internal/natstest"
	"github.com/troupehq/troupe/internal/wstest"
)

// TestRealtimeClusterRoomPublisherOnEveryNode: every node of an actor
// cluster with realtime on runs the bridge from components' publications
// to rooms (a pool member per node, not one name per cluster, which would
// stop the second node from starting); each node accepts connections
// (a connection's actor name is unique in the cluster, where per-node
// counters gave the first connection of every node the same name, and
// the second node refused it); and a publication on one node reaches a
// room's client connected to another.
func TestRealtimeClusterRoomPublisherOnEveryNode(t *testing.T) {
	srv := natstest.Run(t)
	env := map[string]string{
		"ACTORS__CLUSTER__ENABLED":    "true",
		"ACTORS__SHARDING__LEASE_TTL": "2s",
		"NATS__URL":                   srv.ClientURL(),
		"NATS__JETSTREAM__STORE":      "memory",
	}
	nodes := startAll(t, []map[string]string{env, env}, [][]Option{{WithAPI(realtimeAPI())}, {WithAPI(realtimeAPI())}})
	first := mustDialWS(t, nodes[0], "/api/v1/rooms/a", nil)
	wstest.ReadType(t, first, "joined")
	c := mustDialWS(t, nodes[1], "/api/v1/rooms/a", nil)
	wstest.ReadType(t, c, "joined")

	// Interest in realtime.publish.> reaches node 1 a moment after node 2
	// subscribed: node 1 publishes until the client has the message.
	done := make(chan struct{})
	published := make(chan error, 1)
	go func() {
		for {
			_, err := nodes[0].svc.Actors().Publish("realtime.publish.chat.a", wasm.Publication{
				Subject: "realtime.publish.chat.a", Data: []byte(`{"from":"node 1"}`),
			})
			if err != nil {
				published <- err
				return
			}
			select {
			case <-done:
				published <- nil
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	m := wstest.ReadType(t, c, "message")
	close(done)
	if err := <-published; err != nil {
		t.Fatalf("Publish on node 1: %v", err)
	}
	if data, _ := m["data"].(map[string]any); m["room"] != "chat.a" || data["from"] != "node 1" {
		t.Fatalf("the client on node 2 got %v", m)
	}
}
