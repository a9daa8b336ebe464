package actors

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/troupehq/troupe/internal/natstest"
)

// The cluster benchmarks compare remote delivery with raw nats.go between
// two connections to one loopback server, in the same run, with the same
// payload: a []byte of benchPayload bytes, which the runtime carries as
// is (its wire type is troupe.bytes), so the difference is the runtime's
// own cost — envelope, routing, mailbox — not a codec's. The JSON
// variants show a codec's cost on top. docs/benchmarks.md#cluster has
// the figures and the command.

const (
	benchPayload = 128
	// benchWindow bounds how far a sender runs ahead of its receiver, the
	// same for raw and remote, so neither overflows a NATS subscription's
	// pending limit (a slow consumer would drop messages).
	benchWindow = 20_000
)

type benchPair struct {
	n1, n2   *System
	nc1, nc2 *nats.Conn
}

func newBenchPair(b *testing.B) *benchPair {
	srv := natstest.Run(b)
	p := &benchPair{nc1: clusterConn(b, srv), nc2: clusterConn(b, srv)}
	p.n1 = startNode(b, testClusterConfig(p.nc1, "n1"))
	p.n2 = startNode(b, testClusterConfig(p.nc2, "n2"))
	return p
}

// throttle waits while the receiver is more than benchWindow behind.
func throttle(sent int, received *atomic.Int64) {
	for int64(sent)-received.Load() > benchWindow {
		time.Sleep(10 * time.Microsecond)
	}
}

func BenchmarkClusterSend(b *testing.B) {
	p := newBenchPair(b)
	payload := make([]byte, benchPayload)
	b.Run("raw-nats", func(b *testing.B) {
		var received atomic.Int64
		done := make(chan struct{})
		want := int64(b.N)
		sub, err := p.nc2.Subscribe("bench.raw", func(*nats.Msg) {
			if received.Add(1) == want {
				close(done)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = sub.Unsubscribe() }()
		_ = sub.SetPendingLimits(-1, -1)
		if err := p.nc2.Flush(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			throttle(i, &received)
			if err := p.nc1.Publish("bench.raw", payload); err != nil {
				b.Fatal(err)
			}
		}
		<-done
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	for _, c := range []struct {
		name string
		msg  any
	}{{"remote", payload}, {"remote-json", benchPing()}} {
		b.Run(c.name, func(b *testing.B) {
			var received atomic.Int64
			done := make(chan struct{})
			want := int64(b.N)
			if _, err := p.n2.Spawn("sink-"+c.name, func() Actor {
				return fn(func(_ *Context, msg any) {
					switch msg.(type) {
					case []byte, ping:
						if received.Add(1) == want {
							close(done)
						}
					}
				})
			}, WithMailboxSize(4*benchWindow), WithoutProcessingMetrics(), WithDedicatedGoroutine()); err != nil {
				b.Fatal(err)
			}
			ref := lookup(b, p.n1, "sink-"+c.name)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				throttle(i, &received)
				if err := p.n1.Send(ref, c.msg); err != nil {
					b.Fatal(err)
				}
			}
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.StopTimer()
			_ = p.n2.Stop(ref)
		})
	}
}

func BenchmarkClusterRequest(b *testing.B) {
	p := newBenchPair(b)
	payload := make([]byte, benchPayload)
	ctx := context.Background()
	b.Run("raw-nats", func(b *testing.B) {
		sub, err := p.nc2.Subscribe("bench.req", func(m *nats.Msg) { _ = m.Respond(m.Data) })
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = sub.Unsubscribe() }()
		if err := p.nc2.Flush(); err != nil {
			b.Fatal(err)
		}
		latencies(b, func() error {
			_, err := p.nc1.Request("bench.req", payload, 10*time.Second)
			return err
		})
	})
	if _, err := p.n2.Spawn("bench-echo", echoer); err != nil {
		b.Fatal(err)
	}
	ref := lookup(b, p.n1, "bench-echo")
	b.Run("remote", func(b *testing.B) {
		latencies(b, func() error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, err := p.n1.Request(ctx, ref, payload)
			return err
		})
	})
	b.Run("remote-json", func(b *testing.B) {
		msg := benchPing()
		latencies(b, func() error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_, err := p.n1.Request(ctx, ref, msg)
			return err
		})
	})
}

// benchPing is a JSON message of about benchPayload bytes once encoded.
func benchPing() ping { return ping{N: 1, Text: strings.Repeat("x", benchPayload-20)} }

// latencies runs call b.N times and reports its p50 and p99.
func latencies(b *testing.B, call func() error) {
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
