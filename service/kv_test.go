package service

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/internal/natstest"
	"github.com/troupehq/troupe/internal/redistest"
)

// bucketValue reads key from the service's component-state bucket through
// the service's own NATS connection, waiting at most timeout.
func bucketValue(t *testing.T, r *running, key string, timeout time.Duration) (string, error) {
	t.Helper()
	js, err := jetstream.New(r.svc.NATS())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, "troupe_test_kv")
	if err != nil {
		return "", err
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

// TestComponentsKVOnNATS: kv_store = "nats" starts the embedded NATS,
// nothing else asking for it, and a component's kv_put lands in the
// JetStream bucket; "auto" picks JetStream over Redis once NATS is on.
func TestComponentsKVOnNATS(t *testing.T) {
	withStateHome(t)
	t.Run("nats", func(t *testing.T) {
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__KV_STORE", "nats", "NATS__JETSTREAM__STORE", "memory"))
		if r.svc.NATS() == nil {
			t.Fatal(`kv_store = "nats" did not start NATS`)
		}
		if got, err := r.ask(t, "kv", "kstate"); err != nil || got != nil {
			t.Fatalf("put: %v, %v", got, err)
		}
		if v, err := bucketValue(t, r, "kv/n/state", natsWait); err != nil || v != "state" {
			t.Fatalf("bucket troupe_test_kv holds %q, %v; want the component's value", v, err)
		}
	})
	t.Run("auto with NATS on and Redis", func(t *testing.T) {
		srv := redistest.Start(t)
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir(), "REDIS__URL", srv.URL(), "NATS__JETSTREAM__STORE", "memory"), WithNATS())
		if got, err := r.ask(t, "kv", "kauto"); err != nil || got != nil {
			t.Fatalf("put: %v, %v", got, err)
		}
		if v, err := bucketValue(t, r, "kv/n/auto", natsWait); err != nil || v != "auto" {
			t.Fatalf("bucket holds %q, %v; want auto to pick JetStream", v, err)
		}
		if n, err := srv.Client(t).Exists(context.Background(), "troupe:test:kv:kv/n/auto").Result(); err != nil || n != 0 {
			t.Fatalf("the value is in Redis too (%d, %v)", n, err)
		}
	})
	t.Run("auto without NATS", func(t *testing.T) {
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir()))
		if r.svc.NATS() != nil {
			t.Fatal(`kv_store = "auto" started NATS although nothing else uses it`)
		}
	})
}

// TestComponentsKVOnNATSWithoutJetStream: an external NATS without
// JetStream cannot hold the bucket; start-up fails naming the key.
func TestComponentsKVOnNATSWithoutJetStream(t *testing.T) {
	s := natstest.RunWith(t, natsOptions(t, func(o *server.Options) { o.JetStream = false }))
	dir := t.TempDir()
	writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
	svc, err := New("test", WithConfigLoader(testLoader(t, componentEnv(dir, t.TempDir(),
		"ACTORS__COMPONENTS__KV_STORE", "nats", "NATS__URL", s.ClientURL(), "NATS__CONNECT_TIMEOUT", "1s"))), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsWait)
	defer cancel()
	err = svc.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "actors.components.kv_store") || !strings.Contains(err.Error(), "troupe_test_kv") {
		t.Fatalf("Run = %v; want a start-up error naming actors.components.kv_store and the bucket", err)
	}
}

// TestComponentsKVOnNATSOptional: with nats.optional the service starts
// while its external NATS is down, a kv call fails meanwhile, and the
// bucket opens on the first call after NATS is up.
func TestComponentsKVOnNATSOptional(t *testing.T) {
	port := natstest.FreePorts(t, 1)[0]
	dir := t.TempDir()
	writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
	r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__KV_STORE", "nats",
		"NATS__URL", "nats://127.0.0.1:"+strconv.Itoa(port), "NATS__OPTIONAL", "true"))
	var ge *wasm.GuestError
	if got, err := r.ask(t, "kv", "kdown"); err != nil || !errors.As(asError(got), &ge) {
		t.Fatalf("put with NATS down: %v, %v; want the store's error as a guest error", got, err)
	}
	natstest.RunWith(t, natsOptions(t, func(o *server.Options) { o.Port = port }))
	deadline := time.Now().Add(natsWait)
	for {
		got, err := r.ask(t, "kv", "kup")
		if err == nil && got == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("put after NATS came back: %v, %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, err := bucketValue(t, r, "kv/n/up", natsWait); err != nil || v != "up" {
		t.Fatalf("bucket holds %q, %v", v, err)
	}
}

// TestComponentsKVOnNATSCluster runs three nodes of an embedded cluster
// with components: the bucket gets three replicas, and state a component
// wrote on node 1 is read on node 3 after node 1 has stopped.
func TestComponentsKVOnNATSCluster(t *testing.T) {
	withStateHome(t)
	ports := natstest.FreePorts(t, 3)
	routes := make([]string, len(ports))
	for i, p := range ports {
		routes[i] = "nats://127.0.0.1:" + strconv.Itoa(p)
	}
	dir := t.TempDir()
	writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
	envs := make([]map[string]string, len(ports))
	for i, p := range ports {
		envs[i] = componentEnv(dir, t.TempDir(),
			"NATS__CLUSTER__LISTEN", "127.0.0.1:"+strconv.Itoa(p),
			"NATS__CLUSTER__ROUTES", strings.Join(routes, ","),
			"NATS__JETSTREAM__DIR", filepath.Join(t.TempDir(), strconv.Itoa(i)),
			"NATS__CONNECT_TIMEOUT", "30s")
	}
	nodes := startTogether(t, envs)
	if got, err := nodes[0].ask(t, "kv", "kmoved"); err != nil || got != nil {
		t.Fatalf("put on node 1: %v, %v", got, err)
	}
	js, err := jetstream.New(nodes[2].svc.NATS())
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(context.Background(), "KV_troupe_test_kv")
	if err != nil || info.CachedInfo().Config.Replicas != 3 {
		t.Fatalf("bucket stream: %v; want 3 replicas", err)
	}
	if err := nodes[0].stop(t); err != nil {
		t.Fatal(err)
	}
	// A request may go unanswered while the bucket elects a new leader
	// (node 1 may have led it): each read waits 2s, the whole 30s.
	stopped := time.Now()
	deadline := stopped.Add(natsWait)
	for {
		v, err := bucketValue(t, nodes[2], "kv/n/moved", 2*time.Second)
		if err == nil && v == "moved" {
			t.Logf("node 3 read node 1's value %s after node 1 stopped", time.Since(stopped))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 3 reads %q, %v after node 1 stopped; want node 1's value", v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startTogether builds a service per env and runs them all at once, as
// the nodes of a cluster start: each opens its replicated bucket only once
// a majority runs.
func startTogether(t *testing.T, envs []map[string]string) []*running {
	t.Helper()
	nodes := make([]*running, len(envs))
	for i, env := range envs {
		logs := &syncBuffer{}
		svc, err := New("test", WithConfigLoader(testLoader(t, env)), WithLogOutput(logs))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &running{svc: svc, logs: logs, cancel: cancel, done: make(chan struct{})}
		go func() { r.err = svc.Run(ctx); close(r.done) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-r.done:
			case <-time.After(20 * time.Second):
			}
		})
		nodes[i] = r
	}
	for i, r := range nodes {
		select {
		case <-r.svc.Started():
		case <-r.done:
			t.Fatalf("node %d: Run: %v", i+1, r.err)
		case <-time.After(natsWait):
			t.Fatalf("node %d did not start", i+1)
		}
	}
	return nodes
}
