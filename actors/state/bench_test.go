package state

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/internal/natsnode"
	"github.com/troupehq/troupe/internal/natstest"
	"github.com/troupehq/troupe/internal/redistest"
)

// BenchmarkStores measures Get, Put and PutIf of every store in one run,
// one caller at a time, so the figures compare the cost of one call:
// memory in the process, Redis over loopback TCP, JetStream KV on the
// embedded server a service runs (in-process connection, in-memory
// JetStream), 64-byte values over 1024 keys.
func BenchmarkStores(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) Store
	}{
		{"memory", func(*testing.B) Store { return NewMemory(0) }},
		{"redis", func(b *testing.B) Store { return NewRedis(redistest.Start(b).Client(b), "bench:") }},
		{"jetstream", benchJetStream},
	}
	for _, st := range stores {
		s := st.open(b)
		b.Run(st.name, func(b *testing.B) { benchStore(b, s) })
	}
}

func benchStore(b *testing.B, s Store) {
	ctx := context.Background()
	keys := make([]string, 1024)
	revs := make([]uint64, len(keys))
	v := make([]byte, 64)
	for i := range keys {
		keys[i] = "component/ns/" + strconv.Itoa(i)
		rev, err := s.PutIf(ctx, keys[i], v, 0)
		if err != nil {
			b.Fatal(err)
		}
		revs[i] = rev
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, keys[i&1023]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Put", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := s.Put(ctx, keys[i&1023], v); err != nil {
				b.Fatal(err)
			}
		}
	})
	for i, k := range keys { // Put moved the revisions on
		e, err := s.GetEntry(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		revs[i] = e.Revision
	}
	b.Run("PutIf", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rev, err := s.PutIf(ctx, keys[i&1023], v, revs[i&1023])
			if err != nil {
				b.Fatal(err)
			}
			revs[i&1023] = rev
		}
	})
}

// benchJetStream opens a store on an embedded, in-memory JetStream, the
// way a service with nats.jetstream.store = "memory" runs it.
func benchJetStream(b *testing.B) Store {
	node := benchNode(b)
	s, err := NewJetStream(context.Background(), node.JetStream(), JetStreamConfig{Bucket: "bench", Storage: node.Storage()})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchNode starts an embedded NATS server with in-memory JetStream.
func benchNode(b *testing.B) *natsnode.Node {
	node, err := natsnode.Start(context.Background(), natsnode.Config{
		JetStream: natsnode.JetStreamConfig{Store: natsnode.StoreMemory},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = node.Close(context.Background()) })
	return node
}

// BenchmarkJetStreamOpen measures creating a bucket — what a bucket per
// component namespace would add to a namespace's first kv call — on the
// embedded in-memory server (R1) and, replicated, on a three-server
// cluster (R3, files).
func BenchmarkJetStreamOpen(b *testing.B) {
	b.Run("R1", func(b *testing.B) {
		benchOpen(b, benchNode(b).JetStream(), JetStreamConfig{Storage: jetstream.MemoryStorage})
	})
	b.Run("R3", func(b *testing.B) {
		js, err := jetstream.New(natstest.Connect(b, natstest.Cluster(b, 3)[0]))
		if err != nil {
			b.Fatal(err)
		}
		benchOpen(b, js, JetStreamConfig{Replicas: 3})
	})
}

func benchOpen(b *testing.B, js jetstream.JetStream, cfg JetStreamConfig) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		cfg.Bucket = "open" + strconv.Itoa(i)
		if _, err := NewJetStream(ctx, js, cfg); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := js.DeleteKeyValue(ctx, cfg.Bucket); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
