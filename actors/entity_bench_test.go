package actors

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// The entity benchmarks measure what sharding costs: activating an
// inactive entity (its first message), locally and in a cluster where the
// lease must be created, and a message to an active entity against the
// same message to a plain named actor, on one node and across two.
// docs/benchmarks.md#cluster has the figures and the command.

// echoEntity answers every message with itself.
func echoEntity(string) Actor { return echoer() }

func BenchmarkEntityActivation(b *testing.B) {
	run := func(b *testing.B, s *System) {
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			ref, err := s.Entity("echo", strconv.Itoa(i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Request(ctx, ref, i); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("local", func(b *testing.B) {
		s := NewSystem(WithLogger(quiet), WithSharding("echo", echoEntity))
		defer func() { _ = s.Shutdown(context.Background()) }()
		run(b, s)
	})
	b.Run("cluster", func(b *testing.B) {
		srv := natstest.Run(b)
		s := startNode(b, testClusterConfig(clusterConn(b, srv), "n1"), WithSharding("echo", echoEntity))
		run(b, s)
	})
}

// benchRequests times b.N requests to ref.
func benchRequests(b *testing.B, s *System, ref Ref) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Request(ctx, ref, 0); err != nil { // activates an entity
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Request(ctx, ref, i&0xff); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSends times b.N sends to ref and waits for the last reply.
func BenchmarkEntitySteady(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		s := NewSystem(WithLogger(quiet), WithSharding("echo", echoEntity))
		defer func() { _ = s.Shutdown(context.Background()) }()
		named, err := s.Spawn("echo", echoer)
		if err != nil {
			b.Fatal(err)
		}
		ent, _ := s.Entity("echo", "1")
		b.Run("request/named", func(b *testing.B) { benchRequests(b, s, named) })
		b.Run("request/entity", func(b *testing.B) { benchRequests(b, s, ent) })
		b.Run("send/named", func(b *testing.B) { benchSends(b, s, named) })
		b.Run("send/entity", func(b *testing.B) { benchSends(b, s, ent) })
	})
	b.Run("remote", func(b *testing.B) {
		srv := natstest.Run(b)
		n1 := startNode(b, testClusterConfig(clusterConn(b, srv), "n1"), WithSharding("echo", echoEntity))
		n2 := startNode(b, testClusterConfig(clusterConn(b, srv), "n2"), WithSharding("echo", echoEntity))
		if _, err := n2.Spawn("echo", echoer); err != nil {
			b.Fatal(err)
		}
		ent2, _ := n2.Entity("echo", "1")
		if _, err := n2.Request(context.Background(), ent2, 0); err != nil { // active on n2
			b.Fatal(err)
		}
		named := lookup(b, n1, "echo")
		ent, _ := n1.Entity("echo", "1")
		b.Run("request/named", func(b *testing.B) { benchRequests(b, n1, named) })
		b.Run("request/entity", func(b *testing.B) { benchRequests(b, n1, ent) })
	})
}

// benchSends times b.N sends to ref, then one request, which is answered
// after the sends were processed (one sender, one mailbox: in order).
func benchSends(b *testing.B, s *System, ref Ref) {
	ctx := context.Background()
	if _, err := s.Request(ctx, ref, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.SendContext(ctx, ref, i&0xff); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Request(ctx, ref, 0); err != nil {
		b.Fatal(err)
	}
}
