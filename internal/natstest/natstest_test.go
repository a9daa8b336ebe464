package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestRunServesJetStream(t *testing.T) {
	nc := Connect(t, Run(t))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "k"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("Get = %v, %v", e, err)
	}
}

func TestClusterRoutesMessagesAndReplicates(t *testing.T) {
	servers := Cluster(t, 3)
	a, c := Connect(t, servers[0]), Connect(t, servers[2])
	sub, err := c.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	// Interest propagates over the routes asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	var msg *nats.Msg
	for msg == nil && time.Now().Before(deadline) {
		if err := a.Publish("hello", []byte("world")); err != nil {
			t.Fatal(err)
		}
		msg, _ = sub.NextMsg(100 * time.Millisecond)
	}
	if msg == nil || string(msg.Data) != "world" {
		t.Fatalf("message across the route: %v", msg)
	}

	js, err := jetstream.New(a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "r", Replicas: 3}); err != nil {
		t.Fatalf("a 3-replica bucket: %v", err)
	}
}
