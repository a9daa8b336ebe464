package wasmbench

import (
	"bytes"
	"context"
	"testing"

	extism "github.com/extism/go-sdk"
)

// newExtismPlugin compiles testdata/extism_echo.wat and instantiates it as
// an Extism plugin, without WASI (the guest needs none). timeoutMS > 0 sets
// the manifest's timeout, which makes Extism compile with wazero's
// WithCloseOnContextDone and give every call its own deadline context: the
// configuration comparable to Troupe's, where every message has a deadline.
func newExtismPlugin(tb testing.TB, timeoutMS uint64) *extism.Plugin {
	tb.Helper()
	ctx := context.Background()
	manifest := extism.Manifest{
		Wasm:    []extism.Wasm{extism.WasmData{Data: readWAT(tb, "extism_echo")}},
		Timeout: timeoutMS,
	}
	plugin, err := extism.NewPlugin(ctx, manifest, extism.PluginConfig{}, nil)
	if err != nil {
		tb.Fatalf("extism.NewPlugin: %v", err)
	}
	tb.Cleanup(func() { _ = plugin.Close(ctx) })
	return plugin
}

// extismCases are the Extism configurations measured: the PDK-style copy
// with and without a per-call deadline, and the zero-copy floor.
var extismCases = []struct {
	name      string
	export    string
	timeoutMS uint64
}{
	{"copy", "echo", 0},
	{"copy+deadline", "echo", 2000},
	{"zero-copy", "echo_ref", 0},
}

func TestExtismEcho(t *testing.T) {
	for _, tc := range extismCases {
		t.Run(tc.name, func(t *testing.T) {
			plugin := newExtismPlugin(t, tc.timeoutMS)
			// Twice, so a guest whose second call differs (stale output,
			// a leaked block) is caught too.
			for range 2 {
				rc, out, err := plugin.Call(tc.export, payload)
				if err != nil || rc != 0 {
					t.Fatalf("Call(%q) = rc %d, err %v", tc.export, rc, err)
				}
				if !bytes.Equal(out, payload) {
					t.Fatalf("Call(%q) = %q, want %q", tc.export, out, payload)
				}
			}
		})
	}
}

// BenchmarkExtismCall measures plugin.Call with a 64-byte input, returning
// the 64-byte output, on one plugin instance (Extism plugins are not safe
// for concurrent use, so one caller is the realistic case).
func BenchmarkExtismCall(b *testing.B) {
	for _, tc := range extismCases {
		b.Run(tc.name, func(b *testing.B) {
			plugin := newExtismPlugin(b, tc.timeoutMS)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := plugin.Call(tc.export, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
