package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/troupehq/troupe/actors"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// The figures of docs/benchmarks.md ("WASM components") come from this
// file; each benchmark says which. Guests: rt_echo (the runtime tests'
// echo, with WASI imports and troupe_init), testdata/wat/bench_minimal.wat
// (the three required exports and nothing else), bench_loop.wat (a counted
// loop) and examples/components/echo built with the Go SDK.

// benchGuest is a guest module the benchmarks run, by name.
type benchGuest struct {
	name string
	wasm func(testing.TB) []byte
}

var benchGuests = []benchGuest{
	{"minimal", func(tb testing.TB) []byte { return rtCompileWAT(tb, rtWAT(tb, "bench_minimal")) }},
	{"wat-echo", func(tb testing.TB) []byte { return rtEcho(tb, "v1") }},
	{"go", benchGoEcho},
}

// benchGoEcho returns examples/components/echo built for wasip1 by the
// runtime's own dev-mode build, once per process, or skips without go.
func benchGoEcho(tb testing.TB) []byte {
	tb.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		tb.Skip("no go command on PATH: the Go guest cannot be built")
	}
	wasm, err := buildGoEcho()
	if err != nil {
		tb.Fatal(err)
	}
	return wasm
}

var buildGoEcho = buildExampleOnce("echo")

// buildExampleOnce returns a function that builds examples/components/name
// for wasip1 by the runtime's own dev-mode build, once per process.
func buildExampleOnce(name string) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		m, err := LoadManifest(filepath.Join("..", "..", "examples", "components", name, ManifestFile))
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "troupe-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		return buildFromSource(context.Background(), m, dir, slog.New(slog.DiscardHandler))
	})
}

// benchLoad loads wasm as component name on e.
func benchLoad(tb testing.TB, e *rtEnv, name string, wasm []byte) *Component {
	tb.Helper()
	c, err := e.rt.Load(context.Background(), rtComponent(tb, e.dir, name, wasm, ""))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rawGuest is a guest driven by wazero directly: the floor under the
// runtime. It has its own wazero runtime, export handles looked up once,
// calls through CallWithStack with a context that has no Done channel, and
// one troupe_alloc buffer reused by every message, as the runtime reuses
// its inbox, so a message is one call. checks compiles the module with
// WithCloseOnContextDone, as the runtime does, which makes wazero v1.12
// start a watcher goroutine on every call.
type rawGuest struct {
	mem     api.Memory
	receive api.Function
	inbox   uint32
	stack   [3]uint64
}

func newRawGuest(tb testing.TB, wasm []byte, checks bool) *rawGuest {
	tb.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(checks))
	tb.Cleanup(func() { _ = rt.Close(context.Background()) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		tb.Fatal(err)
	}
	g := &rawGuest{mem: mod.ExportedMemory("memory"), receive: mod.ExportedFunction("troupe_receive")}
	g.stack[0] = minInbox
	if err := mod.ExportedFunction("troupe_alloc").CallWithStack(ctx, g.stack[:]); err != nil || g.stack[0] == 0 {
		tb.Fatalf("troupe_alloc(%d) = %d, %v", minInbox, g.stack[0], err)
	}
	g.inbox = uint32(g.stack[0])
	return g
}

// call delivers msg as a kind 1 message and returns a copy of the ok
// reply's payload.
func (g *rawGuest) call(msg []byte) ([]byte, error) {
	g.mem.Write(g.inbox, msg)
	s := g.stack[:]
	s[0], s[1], s[2] = abi.KindMessage, uint64(g.inbox), uint64(len(msg))
	if err := g.receive.CallWithStack(context.Background(), s); err != nil {
		return nil, err
	}
	view, ok := g.mem.Read(uint32(s[0]>>32), uint32(s[0]))
	if !ok || len(view) == 0 || view[0] != abi.StatusOK {
		return nil, fmt.Errorf("not an ok reply: %q", view)
	}
	return bytes.Clone(view[1:]), nil
}

// deliverUnwatched is deliverBytes with no deadline: the same serve-loop
// operation without the deadline stores and the watchdog's begin and end,
// so BenchmarkComponentCall can price them. msg must fit the inbox.
func deliverUnwatched(in *instance, msg []byte) ([]byte, error) {
	in.mem.Write(in.inbox, msg)
	s := in.env.loop
	s.op = [4]uint32{opReceive, abi.KindMessage, in.inbox, uint32(len(msg))}
	if _, ok := s.next(); !ok {
		return nil, s.err
	}
	view, ok := in.mem.Read(uint32(s.result>>32), uint32(s.result))
	if !ok || len(view) == 0 || view[0] != abi.StatusOK {
		return nil, fmt.Errorf("not an ok reply: %q", view)
	}
	return view, nil
}

// TestBenchGuests checks that the benchmarks' guests and harnesses answer
// right, so a benchmark never measures a failing path.
func TestBenchGuests(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	minimal := rtCompileWAT(t, rtWAT(t, "bench_minimal"))
	loop := rtCompileWAT(t, rtWAT(t, "bench_loop"))
	sum10 := binary.LittleEndian.AppendUint64(nil, 55)
	for i, tt := range []struct {
		name      string
		wasm      []byte
		msg, want []byte
	}{
		{"minimal", minimal, []byte("hello"), []byte("hello")},
		{"loop", loop, binary.LittleEndian.AppendUint32(nil, 10), sum10},
		{"loop zero", loop, make([]byte, 4), make([]byte, 8)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := benchLoad(t, e, fmt.Sprintf("guest%d", i), tt.wasm)
			ref, err := e.rt.Spawn(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.request(ref, tt.msg)
			if b, ok := got.([]byte); err != nil || !ok || !bytes.Equal(b, tt.want) {
				t.Errorf("component: %v, %v; want %v", got, err, tt.want)
			}
			for _, checks := range []bool{false, true} {
				if got, err := newRawGuest(t, tt.wasm, checks).call(tt.msg); err != nil || !bytes.Equal(got, tt.want) {
					t.Errorf("raw (checks %v): %v, %v; want %v", checks, got, err, tt.want)
				}
			}
			in, err := c.take(context.Background(), actors.Ref{})
			if err != nil {
				t.Fatal(err)
			}
			defer in.close()
			if _, err := in.allocate(len(tt.msg)); err != nil {
				t.Fatal(err)
			}
			if got, err := deliverUnwatched(in, tt.msg); err != nil || !bytes.Equal(got[1:], tt.want) {
				t.Errorf("unwatched: %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	c := benchLoad(t, e, "short", loop)
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var ge *GuestError
	got, err := e.request(ref, []byte{1})
	if gerr, ok := got.(error); err != nil || !ok || !errors.As(gerr, &ge) || ge.Message != "want a u32" {
		t.Errorf("loop guest given 1 byte: %v, %v; want the error reply", got, err)
	}
}

// BenchmarkComponentRequest compares a 64-byte request round trip into
// echo components (the WAT echo, the minimal guest and the Go SDK's) with
// the same logic as a native actor, on one System (figure 1). The WAT
// echo compares the message with its eleven commands first, in loops, and
// every loop entered pays a termination check (see BenchmarkLoopGuest);
// the minimal guest has no loop.
func BenchmarkComponentRequest(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	_, wasmRef := e.spawn(b, "echo", "")
	minimalRef, err := e.rt.Spawn(context.Background(), benchLoad(b, e, "minimal", benchGuests[0].wasm(b)))
	if err != nil {
		b.Fatal(err)
	}
	native, err := e.sys.Spawn("native", func() actors.Actor { return rtEchoActor{} })
	if err != nil {
		b.Fatal(err)
	}
	var goRef actors.Ref // spawned by the first run, which skips without go
	msg := bytes.Repeat([]byte("x"), 64)
	for _, bc := range []struct {
		name string
		ref  func(b *testing.B) actors.Ref
	}{
		{"wasm", func(*testing.B) actors.Ref { return wasmRef }},
		{"wasm-minimal", func(*testing.B) actors.Ref { return minimalRef }},
		{"native", func(*testing.B) actors.Ref { return native }},
		{"wasm-go", func(b *testing.B) actors.Ref {
			if goRef == (actors.Ref{}) {
				if goRef, err = e.rt.Spawn(context.Background(), benchLoad(b, e, "goecho", benchGoEcho(b))); err != nil {
					b.Fatal(err)
				}
			}
			return goRef
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ref, ctx := bc.ref(b), context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.sys.Request(ctx, ref, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWazeroCall is the floor under BenchmarkComponentRequest: the
// same guests and message driven by wazero directly, one call per message,
// compiled without termination checks and with them (figure 1).
func BenchmarkWazeroCall(b *testing.B) {
	msg := bytes.Repeat([]byte("x"), 64)
	for _, g := range benchGuests[:2] {
		for _, bc := range []struct {
			name   string
			checks bool
		}{{"no-checks", false}, {"checks", true}} {
			b.Run(g.name+"/"+bc.name, func(b *testing.B) {
				raw := newRawGuest(b, g.wasm(b), bc.checks)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := raw.call(msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkComponentThroughput is BenchmarkComponentRequest with 16
// concurrent requesters (figure 2): the actor drains its mailbox in
// batches, so the cost per message is amortised. "pool" is the WAT echo
// as a stateless pool of two instances (max_cpu_cores = 2).
func BenchmarkComponentThroughput(b *testing.B) {
	e := rtNew(b, RuntimeOptions{})
	_, wasmRef := e.spawn(b, "echo", "")
	_, poolRef := e.spawn(b, "pool", "max_cpu_cores = 2")
	native, err := e.sys.Spawn("native", func() actors.Actor { return rtEchoActor{} })
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 64)
	for _, bc := range []struct {
		name string
		ref  actors.Ref
	}{{"wasm", wasmRef}, {"pool", poolRef}, {"native", native}} {
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

// BenchmarkComponentCall prices one 64-byte message on an instance, with
// no actor around it (figure 3): "serve-loop" is the runtime's path
// (deliverBytes: inbox, copy in, troupe_receive through the serve loop
// under a watched deadline); "unwatched" the same without the deadline
// bookkeeping; "bookkeeping" that bookkeeping alone; "direct" a
// troupe_receive call straight into the module, which wazero gives a
// watcher goroutine, as the runtime did before the serve loop.
func BenchmarkComponentCall(b *testing.B) {
	for _, g := range benchGuests[:2] {
		b.Run(g.name, func(b *testing.B) { benchCall(b, g.wasm(b)) })
	}
}

func benchCall(b *testing.B, wasm []byte) {
	e := rtNew(b, RuntimeOptions{})
	c := benchLoad(b, e, "raw", wasm)
	in, err := c.take(context.Background(), actors.Ref{})
	if err != nil {
		b.Fatal(err)
	}
	defer in.close()
	a := &componentActor{c: c, inst: in}
	msg := bytes.Repeat([]byte("x"), 64)
	if _, err := a.inst.send(abi.KindMessage, msg); err != nil { // starts the loop, sets the inbox
		b.Fatal(err)
	}
	wd := in.v.rt.watchdog
	for _, bc := range []struct {
		name string
		op   func() error
	}{
		{"serve-loop", func() error {
			view, err := a.inst.send(abi.KindMessage, msg)
			_ = bytes.Clone(view)
			return err
		}},
		{"unwatched", func() error {
			view, err := deliverUnwatched(in, msg)
			_ = bytes.Clone(view)
			return err
		}},
		{"bookkeeping", func() error {
			in.env.deadline.Store(nowNano() + int64(in.v.timeout))
			wd.begin()
			wd.end()
			if in.env.deadline.Swap(0) == killedDeadline {
				return errors.New("killed")
			}
			return nil
		}},
		{"direct", func() error {
			in.mem.Write(in.inbox, msg)
			in.stack[0], in.stack[1], in.stack[2] = abi.KindMessage, uint64(in.inbox), uint64(len(msg))
			if err := in.receive.CallWithStack(in.ctx, in.stack); err != nil {
				return err
			}
			view, _ := in.mem.Read(uint32(in.stack[0]>>32), uint32(in.stack[0]))
			_ = bytes.Clone(view)
			return nil
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkComponentSpawn measures Spawn until the actor has answered its
// first request, from a compiled module (figure 4): with a warm instance
// ready and with instantiation on the spot. Stopping the actor and, when
// warm, waiting for the background refill are outside the timing; the
// refill that taking the warm instance starts runs during it, as it does
// in a service.
func BenchmarkComponentSpawn(b *testing.B) {
	for _, g := range benchGuests {
		for _, warm := range []int{1, 0} {
			b.Run(fmt.Sprintf("%s/warm=%d", g.name, warm), func(b *testing.B) {
				wasm := g.wasm(b)
				e := rtNew(b, RuntimeOptions{WarmInstances: warm})
				c := benchLoad(b, e, "spawned", wasm)
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
					if warm > 0 {
						rtEventually(b, "refill", func() bool {
							v := c.cur.Load()
							v.mu.Lock()
							defer v.mu.Unlock()
							return len(v.warm) == warm && !v.refilling
						})
					}
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkComponentInstanceMemory reports what one live instance costs
// (figure 5), after _initialize, troupe_init and one message:
// "heap-B/instance" is the Go heap it adds (wazero's module instance and
// call stacks, Troupe's instance), "rss-B/instance" the resident memory it
// adds, Go heap, linear memory and the stack of its parked serve loop
// together (where /proc/self/status exists), and "linear-B/instance" the
// size of its linear memory, of which only the pages written are resident
// (linear.go). The grown guest is mem_grow.wat after its message "f" has
// grown its memory to a 32 MiB cap, writing all of it. ns/op is the time
// to make n.
func BenchmarkComponentInstanceMemory(b *testing.B) {
	guests := []struct {
		benchGuest
		runtime, msg string
		n            int
	}{
		{benchGuests[0], "", "x", 100},
		{benchGuests[1], "", "x", 100},
		{benchGuests[2], "", "x", 20}, // megabytes each
		{benchGuest{"grown-32MiB", func(tb testing.TB) []byte { return rtCompileWAT(tb, rtWAT(tb, "mem_grow")) }},
			"max_memory_mb = 32", "f", 10},
	}
	for _, g := range guests {
		b.Run(g.name, func(b *testing.B) {
			e := rtNew(b, RuntimeOptions{})
			c, err := e.rt.Load(context.Background(), rtComponent(b, e.dir, "mem", g.wasm(b), g.runtime))
			if err != nil {
				b.Fatal(err)
			}
			ins := make([]*instance, 0, g.n)
			var heap, rss float64
			b.ReportAllocs()
			for b.Loop() {
				heap0, rss0 := benchFootprint()
				for range g.n {
					in, err := c.cur.Load().instantiate(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					ins = append(ins, in)
					if err := in.runInit(); err != nil {
						b.Fatal(err)
					}
					if _, err := (&componentActor{c: c, inst: in}).deliverString(g.msg); err != nil {
						b.Fatal(err)
					}
				}
				heap1, rss1 := benchFootprint()
				heap, rss = float64(heap1-heap0), float64(rss1-rss0)
				for _, in := range ins {
					in.close()
				}
				clear(ins) // or the closed instances stay reachable into the next round
				ins = ins[:0]
			}
			b.ReportMetric(heap/float64(g.n), "heap-B/instance")
			if rss >= 0 {
				b.ReportMetric(rss/float64(g.n), "rss-B/instance")
			}
			linear, err := c.cur.Load().instantiate(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := (&componentActor{c: c, inst: linear}).deliverString(g.msg); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(linear.mem.Size()), "linear-B/instance")
			linear.close()
		})
	}
}

// benchFootprint returns the live Go heap and the RSS (-1 where unknown),
// with the heap's free pages returned to the OS first, so that what the
// next instances allocate shows in the RSS.
func benchFootprint() (heap, rss int64) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), procStatus("VmRSS:")
}

// BenchmarkLoopGuest prices interruptibility (figure 6): a message that
// runs a loop of a million iterations in the guest, as a component (its
// module compiled with termination checks: wazero puts one on every loop
// header, Troupe one at every function entry) and driven by wazero
// directly, with and without the checks.
func BenchmarkLoopGuest(b *testing.B) {
	const n = 1_000_000
	wasm := rtCompileWAT(b, rtWAT(b, "bench_loop"))
	msg := binary.LittleEndian.AppendUint32(nil, n)
	want := binary.LittleEndian.AppendUint64(nil, n*(n+1)/2)
	e := rtNew(b, RuntimeOptions{})
	ref, err := e.rt.Spawn(context.Background(), benchLoad(b, e, "loop", wasm))
	if err != nil {
		b.Fatal(err)
	}
	component := func() ([]byte, error) {
		reply, err := e.sys.Request(context.Background(), ref, msg)
		got, _ := reply.([]byte)
		return got, err
	}
	raw := newRawGuest(b, wasm, false)
	rawChecks := newRawGuest(b, wasm, true)
	for _, bc := range []struct {
		name string
		call func() ([]byte, error)
	}{
		{"component", component},
		{"raw-no-checks", func() ([]byte, error) { return raw.call(msg) }},
		{"raw-checks", func() ([]byte, error) { return rawChecks.call(msg) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := bc.call(); err != nil || !bytes.Equal(got, want) {
					b.Fatalf("reply %v, %v; want %v", got, err, want)
				}
			}
		})
	}
}
