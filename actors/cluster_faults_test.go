package actors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestRemoteBadEnvelopes: what a node cannot deliver — oversized,
// truncated, wrong-version, unknown-type, corrupt, expired envelopes, or
// one for an actor that stopped — is a dead letter counted with its
// reason, never a panic or a delivery, and a request gets its error back
// instead of waiting.
func TestRemoteBadEnvelopes(t *testing.T) {
	nodes := startCluster(t, 2, func(i int, c *ClusterConfig) {
		if i == 1 {
			c.MaxPayload = 2048
		}
	})
	n1, n2 := nodes[0], nodes[1]
	got := make(chan ping, 10)
	if _, err := n2.Spawn("sink", func() Actor {
		return fn(func(c *Context, msg any) {
			if p, ok := msg.(ping); ok {
				got <- p
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	envelope := func(change func(w *wireMsg)) []byte {
		w := wireMsg{kind: kindSend, to: wireAddr{node: "n2", name: "sink"},
			typeName: "actors.test.ping", content: contentJSON, payload: []byte(`{"n":1,"text":"ok"}`)}
		if change != nil {
			change(&w)
		}
		return appendWire(nil, &w)
	}
	valid := envelope(nil)
	wrongVersion := append([]byte{wireVersion + 1}, valid[1:]...)
	cases := []struct {
		name, reason string
		data         []byte
	}{
		{"truncated", ReasonMalformed, valid[:len(valid)/2]},
		{"empty", ReasonMalformed, nil},
		{"wrong version", ReasonVersion, wrongVersion},
		{"unknown type", ReasonUnknownType, envelope(func(w *wireMsg) { w.typeName = "nobody.knows" })},
		{"content type not the registered one", ReasonUnknownType, envelope(func(w *wireMsg) { w.content = contentProtobuf })},
		{"corrupt payload", ReasonMalformed, envelope(func(w *wireMsg) { w.payload = []byte(`{"n":`) })},
		{"oversized", ReasonOversized, envelope(func(w *wireMsg) { w.payload = []byte(`{"text":"` + strings.Repeat("x", 3000) + `"}`) })},
		{"deadline passed on the wire", ReasonExpired, envelope(func(w *wireMsg) { w.deadline = time.Now().Add(-time.Second).UnixNano() })},
		{"stopped actor", ReasonStopped, envelope(func(w *wireMsg) { w.to = wireAddr{node: "n2", id: 12345} })},
	}
	nc := n1.cluster.Load().nc
	for _, tc := range cases {
		before := n2.Stats().DeadLetters[tc.reason]
		if err := nc.Publish("troupe.svc.node.n2", tc.data); err != nil {
			t.Fatal(err)
		}
		waitDeadLetters(t, n2, tc.reason, before+1)
		// As a request, the same envelope is answered with an error.
		reply, err := nc.Request("troupe.svc.node.n2", tc.data, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: no answer to a bad request: %v", tc.name, err)
		}
		var w wireMsg
		if err := decodeWire(reply.Data, &w); err != nil || w.kind != kindReply || w.errCode == errNone {
			t.Fatalf("%s: the answer %v (%v) is not an error reply", tc.name, w, err)
		}
	}
	select {
	case p := <-got:
		t.Fatalf("a bad envelope reached Receive: %v", p)
	default:
	}
	if err := nc.Publish("troupe.svc.node.n2", valid); err != nil {
		t.Fatal(err)
	}
	if p := wait(t, got, "the valid envelope"); p.Text != "ok" {
		t.Fatalf("got %v", p)
	}
	// A sender refuses what the receiver would: too large for its peers.
	big := ping{Text: strings.Repeat("x", 3000)}
	ref := lookup(t, n1, "sink")
	if err := n1.cluster.Load().deliver(context.Background(), ref.ep.(*remoteRef), envelope2(big)); err != nil {
		t.Fatalf("n1's own max payload is the server's: %v", err)
	}
	before := n2.Stats().DeadLetters[ReasonOversized]
	waitDeadLetters(t, n2, ReasonOversized, before+1)
}

func envelope2(msg any) envelope { return envelope{msg: msg} }

// TestRemoteNATSRestart: NATS goes away under load and comes back. While
// it is away every remote call fails fast with a typed error; once it is
// back the same Systems work again, with no restart. With a memory store
// the restarted server has lost the lease buckets: they are recreated and
// the leases taken again.
func TestRemoteNATSRestart(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) { testNATSRestart(t, storage) })
	}
}

func testNATSRestart(t *testing.T, storage jetstream.StorageType) {
	opts := natstest.Options(t.TempDir())
	srv := natstest.RunWith(t, opts)
	port := srv.Addr().(*net.TCPAddr).Port
	var nodes []*System
	for i := range 2 {
		cfg := testClusterConfig(clusterConn(t, srv), fmt.Sprint("n", i+1))
		cfg.Storage = storage
		cfg.RequestTimeout = time.Second
		nodes = append(nodes, startNode(t, cfg))
	}
	n1, n2 := nodes[0], nodes[1]
	if _, err := n2.Spawn("echo", nodeEcho); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "echo")

	var ok, unavailable atomic.Int64
	var mu sync.Mutex
	var untyped []error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err := n1.Request(ctx, ref, ping{})
			cancel()
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrUnavailable):
				unavailable.Add(1)
			case errors.Is(err, ErrTimeout), errors.Is(err, ErrStopped):
				// in flight when the server went away
			default:
				mu.Lock()
				untyped = append(untyped, err)
				mu.Unlock()
			}
			time.Sleep(time.Millisecond)
		}
	})
	defer func() { close(stop); wg.Wait() }()
	eventually(t, "load flowing", func() error { return positive(ok.Load()) })

	srv.Shutdown()
	srv.WaitForShutdown()
	eventually(t, "calls failing fast", func() error { return positive(unavailable.Load()) })
	start := time.Now()
	if err := n1.Send(ref, ping{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Send while NATS is down = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("a Send while disconnected took %s; it must not wait", took)
	}
	if _, err := n1.Spawn("while-down", nodeEcho); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a named Spawn while NATS is down = %v, want ErrUnavailable", err)
	}

	restarted := *opts
	restarted.Port = port
	natstest.RunWith(t, &restarted)
	okBefore := ok.Load()
	eventually(t, "recovery", func() error { return positive(ok.Load() - okBefore) })
	eventually(t, "named spawns again", func() error {
		_, err := n1.Spawn("after-restart", nodeEcho)
		return err
	})
	lookup(t, n2, "after-restart")
	// The watches behind Lookup's mirror and membership resume too.
	eventually(t, "the names mirror resuming", func() error {
		if _, ok := n2.cluster.Load().names.mirror.Load("after-restart"); !ok {
			return errors.New("not mirrored")
		}
		return nil
	})
	renewed := time.Now()
	eventually(t, "membership resuming", func() error {
		n2.cluster.Load().members.mu.Lock()
		defer n2.cluster.Load().members.mu.Unlock()
		if !n2.cluster.Load().members.seen["n1"].After(renewed) {
			return errors.New("no renewal of n1 seen")
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(untyped) > 0 {
		t.Fatalf("%d calls failed with untyped errors, first: %v", len(untyped), untyped[0])
	}
}

func positive(n int64) error {
	if n <= 0 {
		return errors.New("none yet")
	}
	return nil
}
