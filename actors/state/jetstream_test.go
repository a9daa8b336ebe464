package state

import (
	"context"
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// waitTimeout bounds waits for servers and buckets: generous, for a loaded
// 2-core machine under -race.
const waitTimeout = 30 * time.Second

// openJetStream opens a store in a bucket of srv.
func openJetStream(t testing.TB, srv *server.Server, cfg JetStreamConfig) (*JetStream, jetstream.JetStream) {
	t.Helper()
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := NewJetStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("NewJetStream: %v", err)
	}
	return s, js
}

func TestJetStreamStore(t *testing.T) {
	s, _ := openJetStream(t, natstest.Run(t), JetStreamConfig{Bucket: "state", Storage: jetstream.MemoryStorage})
	testStore(t, s)
}

// TestJetStreamStoreReplicated runs the contract on a bucket with three
// replicas, whose stream reports a conflict with another code (10164).
func TestJetStreamStoreReplicated(t *testing.T) {
	servers := natstest.Cluster(t, 3)
	s, js := openJetStream(t, servers[0], JetStreamConfig{Bucket: "state", Replicas: 3})
	info, err := js.Stream(context.Background(), "KV_state")
	if err != nil {
		t.Fatal(err)
	}
	if r := info.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("bucket has %d replicas, want 3", r)
	}
	testStore(t, s)
}

// TestJetStreamOpensAnExistingBucketAsItIs: a bucket an operator made
// keeps its settings; the store does not rewrite them.
func TestJetStreamOpensAnExistingBucketAsItIs(t *testing.T) {
	srv := natstest.Run(t)
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "ops", History: 5, Description: "made by an operator"}); err != nil {
		t.Fatal(err)
	}
	s, _ := openJetStream(t, srv, JetStreamConfig{Bucket: "ops", Description: "made by the store"})
	if err := s.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.History() != 5 {
		t.Fatalf("history = %d after the store opened the bucket, want the operator's 5", st.History())
	}
}

// TestJetStreamQuorumLost: with two of three servers gone no write can
// commit; a write fails when its context ends and never reports success.
// (A PutIf after a failed Put may see that Put still pending on the
// leader and report ErrConflict: a failure all the same.)
func TestJetStreamQuorumLost(t *testing.T) {
	servers := natstest.Cluster(t, 3)
	s, _ := openJetStream(t, servers[0], JetStreamConfig{Bucket: "quorum", Replicas: 3})
	ctx := context.Background()
	rev, err := s.PutIf(ctx, "k", []byte("v1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	servers[1].Shutdown()
	servers[2].Shutdown()
	for name, write := range map[string]func(context.Context) error{
		"PutIf": func(ctx context.Context) error { _, err := s.PutIf(ctx, "k", []byte("v2"), rev); return err },
		"Put":   func(ctx context.Context) error { return s.Put(ctx, "k", []byte("v2")) },
	} {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		err := write(wctx)
		cancel()
		if err == nil {
			t.Fatalf("%s without quorum succeeded", name)
		}
		t.Logf("%s without quorum: %v", name, err)
	}
}

// TestJetStreamKeys stores keys outside KV's charset through a real
// server, and checks how they are spelled in the bucket.
func TestJetStreamKeys(t *testing.T) {
	s, js := openJetStream(t, natstest.Run(t), JetStreamConfig{Bucket: "keys", Storage: jetstream.MemoryStorage})
	ctx := context.Background()
	keys := map[string]string{
		"kv/notes/1":  "kv/notes/1",
		"a.b":         "a=2Eb",
		"..":          "=2E=2E",
		"=3D":         "=3D3D",
		"* >":         "=2A=20=3E",
		"$KV.other.x": "=24KV=2Eother=2Ex",
		"é":           "=C3=A9",
	}
	for key := range keys {
		if err := s.Put(ctx, key, []byte(key)); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
	}
	for key := range keys {
		if got, err := s.Get(ctx, key); err != nil || string(got) != key {
			t.Errorf("Get(%q) = %q, %v", key, got, err)
		}
	}
	kv, err := js.KeyValue(ctx, "keys")
	if err != nil {
		t.Fatal(err)
	}
	for key, raw := range keys {
		if e, err := kv.Get(ctx, raw); err != nil || string(e.Value()) != key {
			t.Errorf("bucket key %q = %v; want %q stored there", raw, err, key)
		}
	}
}

// TestJetStreamKeyTooLong: a key whose escaped form would overflow the
// protocol line is refused before it reaches the server, which would
// close the connection; one at the limit works.
func TestJetStreamKeyTooLong(t *testing.T) {
	srv := natstest.Run(t)
	s, _ := openJetStream(t, srv, JetStreamConfig{Bucket: "long", Storage: jetstream.MemoryStorage})
	ctx := context.Background()
	atLimit := strings.Repeat("\xff", maxEscapedKey/3)
	if err := s.Put(ctx, atLimit, []byte("v")); err != nil {
		t.Fatalf("Put(key escaping to %d bytes): %v", maxEscapedKey, err)
	}
	if got, err := s.Get(ctx, atLimit); err != nil || string(got) != "v" {
		t.Fatalf("Get(long key) = %q, %v", got, err)
	}
	over := atLimit + "x"
	if err := s.Put(ctx, over, []byte("v")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Put(key escaping past the limit) = %v, want ErrInvalidKey", err)
	}
	if _, err := s.PutIf(ctx, over, []byte("v"), 0); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("PutIf(key escaping past the limit) = %v, want ErrInvalidKey", err)
	}
	if err := s.Put(ctx, "after", []byte("v")); err != nil {
		t.Fatalf("the connection did not survive: %v", err)
	}
}

// TestJetStreamOpenWaitsForCluster opens a replicated bucket on the first
// server of a three-node cluster before the others run: JetStream has no
// leader and no peers to place replicas on, and NewJetStream retries until
// they come.
func TestJetStreamOpenWaitsForCluster(t *testing.T) {
	dir := t.TempDir()
	ports := natstest.FreePorts(t, 3)
	routes := make([]*url.URL, len(ports))
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	startNode := func(i int) *server.Server {
		opts := natstest.Options(filepath.Join(dir, strconv.Itoa(i)))
		opts.ServerName = "n" + strconv.Itoa(i)
		opts.Cluster = server.ClusterOpts{Name: "forming", Host: "127.0.0.1", Port: ports[i]}
		opts.Routes = routes
		return natstest.RunWith(t, opts)
	}
	first := startNode(0)
	js, err := jetstream.New(natstest.Connect(t, first))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		s   *JetStream
		err error
	}
	opened := make(chan result, 1)
	go func() {
		s, err := NewJetStream(context.Background(), js, JetStreamConfig{Bucket: "forming", Replicas: 3, OpenTimeout: waitTimeout})
		opened <- result{s, err}
	}()
	select {
	case r := <-opened:
		t.Fatalf("NewJetStream returned with one node of three running: %v, %v", r.s, r.err)
	case <-time.After(500 * time.Millisecond):
	}
	startNode(1)
	startNode(2)
	r := <-opened
	if r.err != nil {
		t.Fatalf("NewJetStream once the cluster formed: %v", r.err)
	}
	if err := r.s.Put(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

// TestJetStreamOpenRefusalIsImmediate: a refusal that waiting cannot cure
// (three replicas on a lone server) is returned at once, not retried
// until the timeout.
func TestJetStreamOpenRefusalIsImmediate(t *testing.T) {
	js, err := jetstream.New(natstest.Connect(t, natstest.Run(t)))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = NewJetStream(context.Background(), js, JetStreamConfig{Bucket: "r3", Replicas: 3, OpenTimeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("NewJetStream(3 replicas, one server) = %v, want the server's refusal", err)
	}
	if took := time.Since(begin); took > waitTimeout {
		t.Fatalf("the refusal took %s; it must not be retried", took)
	}
	for _, cfg := range []JetStreamConfig{{Bucket: "a.b"}, {Bucket: ""}, {Bucket: "ok", Replicas: 6}} {
		if _, err := NewJetStream(context.Background(), js, cfg); err == nil {
			t.Errorf("NewJetStream(%+v) succeeded", cfg)
		}
	}
}

// TestJetStreamDownIsAnErrorNotMissing: with the server gone a read is a
// failure, never a missing key.
func TestJetStreamDownIsAnErrorNotMissing(t *testing.T) {
	srv := natstest.Run(t)
	s, _ := openJetStream(t, srv, JetStreamConfig{Bucket: "down", Storage: jetstream.MemoryStorage})
	srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get with NATS down = %v, want a NATS error", err)
	}
	if err := s.Put(ctx, "k", []byte("v")); err == nil {
		t.Fatal("Put with NATS down succeeded")
	}
	if _, err := s.PutIf(ctx, "k", []byte("v"), 0); err == nil || errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf with NATS down = %v, want a NATS error", err)
	}
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"troupe":                 true,
		"Troupe_state-1":         true,
		strings.Repeat("a", 255): true,
		"":                       false,
		strings.Repeat("a", 256): false,
		"has.dot":                false,
		"has space":              false,
		"ümlaut":                 false,
	} {
		if got := validBucketName(name); got != want {
			t.Errorf("validBucketName(%.20q) = %v, want %v", name, got, want)
		}
	}
}
