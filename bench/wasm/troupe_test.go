package wasmbench

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
)

// echoManifest is the Component.toml of the Troupe echo: no capabilities
// (the guest makes no host call), the smallest memory, and a deadline on
// every message, as every Troupe component has.
const echoManifest = `
[component]
name = "echo"
version = "1.0.0"
wasm = "troupe_echo.wasm"

[runtime]
max_memory_mb = 1
message_timeout_ms = 2000
`

// spawnTroupeEcho loads the echo component (loadTroupeEcho) and spawns one
// actor of it.
func spawnTroupeEcho(tb testing.TB, sys *actors.System) actors.Ref {
	tb.Helper()
	rt, comp := loadTroupeEcho(tb, sys)
	ref, err := rt.Spawn(context.Background(), comp)
	if err != nil {
		tb.Fatalf("Spawn: %v", err)
	}
	return ref
}

// loadTroupeEcho compiles testdata/troupe_echo.wat and loads it through a
// Component.toml into a Runtime on sys. The runtime logs nowhere, like the
// System, and its compilation cache is in memory: only calls are measured,
// never loading.
func loadTroupeEcho(tb testing.TB, sys *actors.System) (*wasm.Runtime, *wasm.Component) {
	tb.Helper()
	ctx := context.Background()
	dir := filepath.Dir(compileWAT(tb, "troupe_echo"))
	m, err := wasm.ParseManifest([]byte(echoManifest), dir)
	if err != nil {
		tb.Fatalf("ParseManifest: %v", err)
	}
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{
		System: sys,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatalf("NewRuntime: %v", err)
	}
	tb.Cleanup(func() { _ = rt.Close(context.Background()) })
	comp, err := rt.Load(ctx, m)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return rt, comp
}

func TestTroupeEcho(t *testing.T) {
	sys := newSystem(t)
	ref := spawnTroupeEcho(t, sys)
	// Twice, so a guest whose second reply differs (a reused buffer not
	// rewritten, a stale status byte) is caught too.
	for range 2 {
		if got := request(t, sys, ref); !bytes.Equal(got, payload) {
			t.Fatalf("reply %q, want %q", got, payload)
		}
	}
	_, comp := loadTroupeEcho(t, sys)
	for range 2 {
		if got, err := comp.Call(context.Background(), payload); err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("Call = %q, %v; want %q", got, err, payload)
		}
	}
}

// BenchmarkTroupeCall measures Component.Call with a 64-byte payload: the
// host invoking the guest directly (copy in, troupe_receive under a
// deadline, copy of the reply out) with no actor around it, the same shape
// of work as Extism's plugin.Call.
func BenchmarkTroupeCall(b *testing.B) {
	_, comp := loadTroupeEcho(b, newSystem(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := comp.Call(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTroupeRequest measures System.Request into the WASM echo
// component with a 64-byte payload, from one caller: the whole round trip
// (mailbox, guest allocation, copy in, troupe_receive under a deadline,
// copy of the reply out), comparable with BenchmarkNativeActorRequest and
// BenchmarkExtismCall.
func BenchmarkTroupeRequest(b *testing.B) {
	sys := newSystem(b)
	ref := spawnTroupeEcho(b, sys)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sys.Request(ctx, ref, payload); err != nil {
			b.Fatal(err)
		}
	}
}
