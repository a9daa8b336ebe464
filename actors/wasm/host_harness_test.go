package wasm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/internal/syncbuf"
	"github.com/troupehq/troupe/internal/telemetry"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// hostLimits are small, so oversize payloads fit the test module's memory.
var hostLimits = Limits{MaxMessageBytes: 1024, MaxReplyBytes: 1024}

// hostWASM caches compiled WAT files by name for the test binary's life.
var hostWASM sync.Map

// hostCompileWAT compiles testdata/wat/name with wat2wasm. Without wat2wasm
// the test is skipped, or failed when CI is set (CI installs wabt).
func hostCompileWAT(t testing.TB, name string) []byte {
	t.Helper()
	if b, ok := hostWASM.Load(name); ok {
		return b.([]byte)
	}
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found on PATH (CI is set, so this is a failure)")
		}
		t.Skip("!!! SKIPPED: wat2wasm not found on PATH; install wabt to run this test !!!")
	}
	out := filepath.Join(t.TempDir(), "m.wasm")
	if msg, err := exec.Command(bin, filepath.Join("testdata", "wat", name), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	hostWASM.Store(name, b)
	return b
}

// hostComponents numbers components, so each test's component has its own
// audit limiter and metric series.
var hostComponents atomic.Int64

// hostFixture is a component environment with everything it touches
// observable: its logs, audit records, denial metrics and the messages its
// own actor receives.
type hostFixture struct {
	env    *instanceEnv
	sys    *actors.System
	logs   *syncbuf.Buffer
	audit  *syncbuf.Buffer
	reader *sdkmetric.ManualReader
	inbox  chan any // what the component's own actor receives
}

// hostActor is a native actor that hands every message to a channel and,
// for a request, answers with reply(msg).
type hostActor struct {
	got   chan any
	reply func(msg any) any
}

// Receive hands msg on and answers it; lifecycle messages are ignored.
func (a *hostActor) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case actors.Started, actors.Stopping, actors.Stopped, actors.Restarting:
		return
	}
	if a.got != nil {
		select {
		case a.got <- msg:
		default:
		}
	}
	if a.reply != nil {
		c.Respond(a.reply(msg))
	}
}

// hostNewEnv builds a component environment granting caps, with its own
// actor System, a memory store (shared when store is given) and a fetch
// client built by newFetchClient.
func hostNewEnv(t testing.TB, store state.Store, caps ...string) *hostFixture {
	t.Helper()
	cs, err := ParseCapabilities(caps)
	if err != nil {
		t.Fatal(err)
	}
	sys := actors.NewSystem()
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	if store == nil {
		store = state.NewMemory(0)
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := &hostFixture{sys: sys, logs: &syncbuf.Buffer{}, audit: &syncbuf.Buffer{}, reader: reader, inbox: make(chan any, 16)}
	name := fmt.Sprintf("comp%d", hostComponents.Add(1))
	self, err := sys.SpawnActor(name, &hostActor{got: f.inbox})
	if err != nil {
		t.Fatal(err)
	}
	comp := &componentEnv{
		name:   name,
		caps:   cs,
		sys:    sys,
		log:    slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", name),
		audit:  slog.New(slog.NewJSONHandler(f.audit, nil)).With("component", name, "log", "audit"),
		store:  store,
		client: newFetchClient(nil, cs),
		stats:  newInstruments(mp),
		limits: hostLimits,
	}
	f.env = &instanceEnv{comp: comp, self: self}
	return f
}

// hostGuest is an instantiated test module calling host functions on
// behalf of one instance.
type hostGuest struct {
	t    testing.TB
	ctx  context.Context
	mod  api.Module
	next uint32 // bump allocator for test data
}

// hostInstantiate instantiates the WAT module watName with WASI and the
// troupe host module, in a fresh runtime, for env.
func hostInstantiate(t testing.TB, watName string, env *instanceEnv) *hostGuest {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { _ = rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	if err := defineHost(ctx, rt); err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, hostCompileWAT(t, watName), wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	return &hostGuest{t: t, ctx: withInstance(ctx, env), mod: mod, next: 1024}
}

// put copies b into guest memory and returns its pointer and length.
func (g *hostGuest) put(b []byte) (ptr, n uint64) {
	g.t.Helper()
	p := g.next
	if !g.mod.Memory().Write(p, b) {
		g.t.Fatalf("test data of %d bytes does not fit guest memory", len(b))
	}
	g.next += uint32(len(b)) + 8
	return uint64(p), uint64(len(b))
}

// str is put for a string, returning both arguments for a call.
func (g *hostGuest) str(s string) []uint64 {
	p, n := g.put([]byte(s))
	return []uint64{p, n}
}

// call calls the export fn (a pass-through to the host function of the same
// name) and returns the ABI result.
func (g *hostGuest) call(fn string, args ...uint64) int64 {
	g.t.Helper()
	res, err := g.mod.ExportedFunction(fn).Call(g.ctx, args...)
	if err != nil {
		g.t.Fatalf("%s trapped: %v", fn, err)
	}
	return int64(res[0])
}

// pending reads the pending result through result_read, as a guest does.
func (g *hostGuest) pending(n int64) string {
	g.t.Helper()
	ptr := g.next
	got := g.call("result_read", uint64(ptr), uint64(n))
	if got != n {
		g.t.Fatalf("result_read copied %d bytes, want %d", got, n)
	}
	b, _ := g.mod.Memory().Read(ptr, uint32(n))
	return string(b)
}

// args concatenates argument lists.
func args(lists ...[]uint64) []uint64 {
	var out []uint64
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// wantCode checks a host call's result against a negative error code (or 0
// for success with nothing pending) and, for errors, that the pending
// message contains wantMsg.
func (g *hostGuest) wantCode(name string, got, want int64, env *instanceEnv, wantMsg string) {
	g.t.Helper()
	if got != want {
		g.t.Fatalf("%s = %d, want %d (pending %q)", name, got, want, env.result)
	}
	if want < 0 && !strings.Contains(string(env.result), wantMsg) {
		g.t.Errorf("%s pending message %q does not contain %q", name, env.result, wantMsg)
	}
}

// denials returns the denial count of component for kind.
func (f *hostFixture) denials(t testing.TB, kind string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != telemetry.MetricComponentDenials || !ok {
				continue
			}
			for _, p := range sum.DataPoints {
				c, _ := p.Attributes.Value("troupe.component")
				k, _ := p.Attributes.Value("troupe.capability.kind")
				if c.AsString() == f.env.comp.name && k.AsString() == kind {
					n += p.Value
				}
			}
		}
	}
	return n
}

// auditRecords returns the decoded audit log records.
func (f *hostFixture) auditRecords(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(f.audit.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// wantDenied checks one denial: code 1, the pending message, the counter
// and an audit record naming the capability and resource.
func (f *hostFixture) wantDenied(t testing.TB, got int64, kind, capability, resource string) {
	t.Helper()
	if got != -abi.CodeDenied {
		t.Fatalf("result = %d, want -1 (pending %q)", got, f.env.result)
	}
	if string(f.env.result) != "denied: "+capability {
		t.Errorf("pending = %q, want %q", f.env.result, "denied: "+capability)
	}
	if n := f.denials(t, kind); n != 1 {
		t.Errorf("denials{%s} = %d, want 1", kind, n)
	}
	recs := f.auditRecords(t)
	if len(recs) != 1 {
		t.Fatalf("audit records = %v, want 1", recs)
	}
	r := recs[0]
	if r["level"] != "WARN" || r["msg"] != "capability denied" || r["component"] != f.env.comp.name ||
		r["capability"] != capability || r["resource"] != resource {
		t.Errorf("audit record = %v, want capability %q resource %q", r, capability, resource)
	}
}
