package natsnode

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/troupehq/troupe/internal/syncbuf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait for a connection, a cluster or a
// replicated write: generous, for a loaded 2-core machine under -race.
const waitTimeout = 30 * time.Second

// testLogger returns a logger writing to a buffer the test can read.
func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// start starts a node and closes it when the test ends.
func start(t *testing.T, cfg Config) *Node {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	n, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { closeNode(t, n) })
	return n
}

// closeNode closes n within waitTimeout.
func closeNode(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// waitFor polls cond until it is true or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kvRoundTrip creates (or opens) bucket with cfg's storage and replicas
// through n, writes key and reads it back.
func kvRoundTrip(t *testing.T, n *Node, bucket string, replicas int) jetstream.KeyValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	kv, err := n.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, Storage: n.Storage(), Replicas: replicas})
	if err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	// A replicated stream answers only once its replicas have elected a
	// leader, which CreateOrUpdateKeyValue does not wait for: until then a
	// Put gets "no response from stream" (it did so once in CI).
	retry(t, "Put", func(ctx context.Context) error {
		_, err := kv.Put(ctx, "k", []byte("v"))
		return err
	})
	e, err := kv.Get(ctx, "k")
	if err != nil || !bytes.Equal(e.Value(), []byte("v")) {
		t.Fatalf("Get = %v, %v", e, err)
	}
	return kv
}
