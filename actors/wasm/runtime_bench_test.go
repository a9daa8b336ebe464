package wasm

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/troupehq/troupe/actors"
)

// BenchmarkComponentRequest compares a 64-byte request round trip into the
// WAT echo component with the same logic as a native actor, on one System.
func BenchmarkComponentRequest(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	_, wasmRef := e.spawn(b, "echo", "")
	native, err := e.sys.Spawn("native", func() actors.Actor { return rtEchoActor{} })
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 64)
	for _, bc := range []struct {
		name string
		ref  actors.Ref
	}{{"wasm", wasmRef}, {"native", native}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.sys.Request(ctx, bc.ref, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkComponentThroughput is BenchmarkComponentRequest with many
// concurrent requesters: the actor drains its mailbox in batches, and the
// cost per message is amortised over a busy scheduler.
func BenchmarkComponentThroughput(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	_, wasmRef := e.spawn(b, "echo", "")
	native, err := e.sys.Spawn("native", func() actors.Actor { return rtEchoActor{} })
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 64)
	for _, bc := range []struct {
		name string
		ref  actors.Ref
	}{{"wasm", wasmRef}, {"native", native}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.sys.Request(ctx, bc.ref, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkComponentCall measures one troupe_alloc + write + troupe_receive
// + reply copy on an instance, with the watchdog's deadline bookkeeping and
// without it (the bare wazero calls).
func BenchmarkComponentCall(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	c, err := e.rt.Load(context.Background(), rtComponent(b, e.dir, "raw", rtEcho(b, "v1"), ""))
	if err != nil {
		b.Fatal(err)
	}
	in, err := c.take(context.Background(), actors.Ref{})
	if err != nil {
		b.Fatal(err)
	}
	defer in.close()
	msg := bytes.Repeat([]byte("x"), 64)
	b.Run("deadline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ptr, err := in.allocate(len(msg))
			if err != nil {
				b.Fatal(err)
			}
			in.mem.Write(ptr, msg)
			view, err := in.deliver(kindMessage, ptr, len(msg))
			if err != nil {
				b.Fatal(err)
			}
			_ = bytes.Clone(view)
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in.stack[0] = uint64(len(msg))
			if err := in.alloc.CallWithStack(in.ctx, in.stack); err != nil {
				b.Fatal(err)
			}
			ptr := uint32(in.stack[0])
			in.mem.Write(ptr, msg)
			in.stack[0], in.stack[1], in.stack[2] = kindMessage, uint64(ptr), uint64(len(msg))
			if err := in.receive.CallWithStack(in.ctx, in.stack); err != nil {
				b.Fatal(err)
			}
			view, _ := in.mem.Read(uint32(in.stack[0]>>32), uint32(in.stack[0]))
			_ = bytes.Clone(view)
		}
	})
}

// BenchmarkComponentSpawn measures Spawn until the actor has answered its
// first request, then Stop, from a compiled module: with a warm instance
// ready and with instantiation on the spot.
func BenchmarkComponentSpawn(b *testing.B) {
	for _, bc := range []struct {
		name string
		warm int
	}{{"warm", 1}, {"cold", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			e := rtNew(b, RuntimeOptions{WarmInstances: bc.warm})
			c, err := e.rt.Load(context.Background(), rtComponent(b, e.dir, "spawned", rtEcho(b, "v1"), ""))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ref, err := e.rt.Spawn(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.request(ref, "x"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = e.sys.Stop(ref)
				<-e.sys.Done(ref)
				if bc.warm > 0 { // let the background refill finish outside the timing
					rtEventually(b, "refill", func() bool {
						v := c.cur.Load()
						v.mu.Lock()
						defer v.mu.Unlock()
						return len(v.warm) == bc.warm && !v.refilling
					})
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkComponentInstanceMemory reports what one instance of the echo
// guest costs: the Go heap it adds plus its linear memory (two 64 KiB
// pages), which wazero may allocate outside the Go heap.
func BenchmarkComponentInstanceMemory(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	c, err := e.rt.Load(context.Background(), rtComponent(b, e.dir, "mem", rtEcho(b, "v1"), ""))
	if err != nil {
		b.Fatal(err)
	}
	const n = 100
	ins := make([]*instance, 0, n)
	var before, after runtime.MemStats
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			in, err := c.cur.Load().instantiate(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			ins = append(ins, in)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(heap/n+float64(ins[0].mem.Size()), "B/instance")
		for _, in := range ins {
			in.close()
		}
		ins = ins[:0]
	}
}
