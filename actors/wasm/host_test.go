package wasm

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// TestHostModuleMatchesABI pins every function and signature of the ABI
// doc's host function table.
func TestHostModuleMatchesABI(t *testing.T) {
	want := map[string]int{ // i32 parameter count; every result is one i64
		"result_read": 2, "send": 4, "request": 5, "publish": 4, "subscribe": 2, "log": 3,
		"kv_get": 4, "kv_put": 6, "kv_delete": 4, "http_fetch": 2, "now": 0, "random": 2, "self": 0,
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if err := defineHost(ctx, rt); err != nil {
		t.Fatal(err)
	}
	defs := rt.Module(hostModule).ExportedFunctionDefinitions()
	if got, exp := slices.Sorted(maps.Keys(defs)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, exp) {
		t.Fatalf("host functions = %v, want %v", got, exp)
	}
	for name, d := range defs {
		params := d.ParamTypes()
		if len(params) != want[name] || strings.Trim(string(params), string([]byte{api.ValueTypeI32})) != "" {
			t.Errorf("%s params = %v, want %d × i32", name, params, want[name])
		}
		if r := d.ResultTypes(); len(r) != 1 || r[0] != api.ValueTypeI64 {
			t.Errorf("%s results = %v, want [i64]", name, r)
		}
	}
}

func TestHostWithoutInstanceIsInvalid(t *testing.T) {
	f := hostNewEnv(t, nil)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	g.ctx = context.Background() // no instanceEnv: a runtime bug, never a panic
	for _, fn := range []string{"now", "self"} {
		if got := g.call(fn); got != -abi.CodeInvalid {
			t.Errorf("%s without an instance = %d, want -5", fn, got)
		}
	}
}

func TestHostResultRead(t *testing.T) {
	f := hostNewEnv(t, nil)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	n := g.call("self")
	if n != int64(len(f.env.comp.name)) {
		t.Fatalf("self = %d, want %d", n, len(f.env.comp.name))
	}
	if got := g.pending(n); got != f.env.comp.name {
		t.Errorf("result = %q, want %q", got, f.env.comp.name)
	}
	// A short buffer gets a prefix, and the result stays pending.
	if got := g.pending(2); got != f.env.comp.name[:2] {
		t.Errorf("short read = %q", got)
	}
	if got := g.pending(n); got != f.env.comp.name {
		t.Errorf("reread = %q", got)
	}
	// A bigger buffer gets only the result.
	if got := g.call("result_read", uint64(g.next), 100); got != n {
		t.Errorf("result_read(100) = %d, want %d", got, n)
	}
}

// TestHostBadPointers sends every pointer argument out of bounds, and
// pointer+length past the end and wrapping around 2^32: each is code 5,
// never a trap.
func TestHostBadPointers(t *testing.T) {
	f := hostNewEnv(t, nil, "actor:send:*", "actor:request:*", "topic:publish:>",
		"topic:subscribe:>", "kv:read:ns", "kv:write:ns", "network:outbound:127.0.0.1:*")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	memEnd := uint64(g.mod.Memory().Size())
	bad := [][]uint64{{memEnd, 1}, {memEnd - 4, 8}, {0xFFFFFFFF, 2}, {0x7FFFFFFF, 0x7FFFFFFF}}
	ok := g.str("ns")
	calls := []struct {
		fn   string
		args func(bad []uint64) []uint64
	}{
		{"result_read", func(b []uint64) []uint64 { return b }},
		{"send", func(b []uint64) []uint64 { return args(b, ok) }},
		{"send", func(b []uint64) []uint64 { return args(ok, b) }},
		{"request", func(b []uint64) []uint64 { return args(b, ok, []uint64{0}) }},
		{"request", func(b []uint64) []uint64 { return args(ok, b, []uint64{0}) }},
		{"publish", func(b []uint64) []uint64 { return args(b, ok) }},
		{"publish", func(b []uint64) []uint64 { return args(ok, b) }},
		{"subscribe", func(b []uint64) []uint64 { return b }},
		{"log", func(b []uint64) []uint64 { return args([]uint64{0}, b) }},
		{"kv_get", func(b []uint64) []uint64 { return args(b, ok) }},
		{"kv_get", func(b []uint64) []uint64 { return args(ok, b) }},
		{"kv_put", func(b []uint64) []uint64 { return args(ok, ok, b) }},
		{"kv_put", func(b []uint64) []uint64 { return args(b, ok, ok) }},
		{"kv_delete", func(b []uint64) []uint64 { return args(ok, b) }},
		{"http_fetch", func(b []uint64) []uint64 { return b }},
		{"random", func(b []uint64) []uint64 { return b }},
	}
	for _, c := range calls {
		for _, b := range bad {
			if got := g.call(c.fn, c.args(b)...); got != -abi.CodeInvalid {
				t.Errorf("%s with %v = %d, want -5 (pending %q)", c.fn, b, got, f.env.result)
			}
		}
	}
	if n := f.denials(t, "actor") + f.denials(t, "kv") + f.denials(t, "topic"); n != 0 {
		t.Errorf("bad pointers counted %d denials", n)
	}
}

func TestHostNowRandomSelf(t *testing.T) {
	f := hostNewEnv(t, nil)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	before := time.Now().UnixNano()
	now := g.call("now")
	if after := time.Now().UnixNano(); now < before || now > after {
		t.Errorf("now = %d, not within [%d, %d]", now, before, after)
	}

	p, _ := g.put(make([]byte, 64))
	if got := g.call("random", p, 64); got != 64 {
		t.Fatalf("random(64) = %d", got)
	}
	first, _ := g.mod.Memory().Read(uint32(p), 64)
	first = slices.Clone(first)
	g.call("random", p, 64)
	second, _ := g.mod.Memory().Read(uint32(p), 64)
	if slices.Equal(first, second) || slices.Equal(first, make([]byte, 64)) {
		t.Error("random did not fill the buffer with fresh bytes")
	}
	if got := g.call("random", 0, maxRandomBytes+1); got != -abi.CodeTooLarge {
		t.Errorf("random(65537) = %d, want -4", got)
	}
	if got := g.call("random", 0, maxRandomBytes); got != maxRandomBytes {
		t.Errorf("random(65536) = %d, want 65536", got)
	}
	if n := g.call("self"); g.pending(n) != f.env.comp.name {
		t.Errorf("self result = %q", f.env.result)
	}
}

func TestHostLog(t *testing.T) {
	f := hostNewEnv(t, nil)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	neg := func(l int64) uint64 { return uint64(uint32(int32(l))) }
	g.call("log", args([]uint64{neg(-4)}, g.str("debug is below the level"))...)
	g.call("log", args([]uint64{neg(4)}, g.str("careful"))...)
	long := strings.Repeat("x", maxLogBytes+100)
	if got := g.call("log", args([]uint64{neg(8)}, g.str(long))...); got != 0 {
		t.Fatalf("log = %d", got)
	}
	var recs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(f.logs.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 {
		t.Fatalf("log records = %v, want the warn and the error", recs)
	}
	if recs[0]["level"] != "WARN" || recs[0]["msg"] != "careful" || recs[0]["component"] != f.env.comp.name {
		t.Errorf("warn record = %v", recs[0])
	}
	if recs[1]["level"] != "ERROR" || recs[1]["msg"] != long[:maxLogBytes] || recs[1]["truncated"] != true {
		t.Errorf("long record: level %v, %d bytes, truncated %v; want ERROR, %d, true",
			recs[1]["level"], len(recs[1]["msg"].(string)), recs[1]["truncated"], maxLogBytes)
	}
}

func BenchmarkHostNow(b *testing.B) {
	f := hostNewEnv(b, nil)
	g := hostInstantiate(b, "host_calls.wat", f.env)
	b.ReportAllocs()
	b.ResetTimer()
	if r := g.call("now_loop", uint64(b.N)); r <= 0 {
		b.Fatalf("now = %d", r)
	}
}
