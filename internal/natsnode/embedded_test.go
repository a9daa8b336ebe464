package natsnode

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

func TestEmbeddedFileStore(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(t.TempDir(), "state", "nats")
	logger, logs := testLogger()
	n := start(t, Config{Name: "orders", JetStream: JetStreamConfig{Store: StoreFile, Dir: dir}, Logger: logger})
	if !n.Embedded() || n.Storage() != jetstream.FileStorage {
		t.Fatalf("Embedded %v, Storage %v", n.Embedded(), n.Storage())
	}
	if err := n.Check(context.Background()); err != nil {
		t.Fatalf("Check on a fresh node: %v", err)
	}
	if a := n.server.srv.Addr(); a != nil {
		t.Errorf("the embedded server listens for clients on %s; it should not without Listen", a)
	}
	kv := kvRoundTrip(t, n, "orders", 1)
	st, err := kv.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info := st.(*jetstream.KeyValueBucketStatus).StreamInfo(); info.Config.Storage != jetstream.FileStorage {
		t.Errorf("bucket storage = %v", info.Config.Storage)
	}
	streamDir := filepath.Join(dir, "jetstream", "$G", "streams", "KV_orders")
	if _, err := os.Stat(streamDir); err != nil {
		t.Errorf("the bucket's files are not under the store dir: %v", err)
	}
	closeNode(t, n)
	if !strings.Contains(logs.String(), "embedded server started") {
		t.Errorf("start not logged:\n%s", logs)
	}
}

func TestEmbeddedMemoryStore(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := start(t, Config{JetStream: JetStreamConfig{Store: StoreMemory}})
	if n.Storage() != jetstream.MemoryStorage {
		t.Fatalf("Storage = %v", n.Storage())
	}
	kv := kvRoundTrip(t, n, "scratch", 1)
	st, err := kv.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info := st.(*jetstream.KeyValueBucketStatus).StreamInfo(); info.Config.Storage != jetstream.MemoryStorage {
		t.Errorf("bucket storage = %v", info.Config.Storage)
	}
	tmp := n.server.tmpDir
	if tmp == "" {
		t.Fatal("no temporary store dir")
	}
	closeNode(t, n)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary store dir %s left behind: %v", tmp, err)
	}
}
