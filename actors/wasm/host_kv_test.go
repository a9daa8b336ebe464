package wasm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/troupehq/troupe/actors/state"

	"github.com/troupehq/troupe/actors/internal/abi"
)

func TestHostKV(t *testing.T) {
	store := state.NewMemory(0)
	f := hostNewEnv(t, store, "kv:read:notes", "kv:write:notes", "kv:read:readonly")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	ns, key := g.str("notes"), g.str("n1")

	g.wantCode("kv_get missing", g.call("kv_get", args(ns, key)...), -abi.CodeNotFound, f.env, "not_found")
	val := g.str("hello")
	g.wantCode("kv_put", g.call("kv_put", args(ns, key, val)...), 0, f.env, "")
	if r := g.call("kv_get", args(ns, key)...); r != 5 || g.pending(r) != "hello" {
		t.Fatalf("kv_get = %d, %q; want hello", r, f.env.result)
	}
	stored, err := store.Get(context.Background(), f.env.comp.name+"/notes/n1")
	if err != nil || string(stored) != "hello" {
		t.Fatalf("store key <component>/notes/n1 = %q, %v", stored, err)
	}
	g.wantCode("kv_delete", g.call("kv_delete", args(ns, key)...), 0, f.env, "")
	g.wantCode("kv_get deleted", g.call("kv_get", args(ns, key)...), -abi.CodeNotFound, f.env, "not_found")
	g.wantCode("kv_delete missing", g.call("kv_delete", args(ns, key)...), 0, f.env, "")

	for _, tc := range []struct {
		name      string
		fn        string
		args      []uint64
		want      int64
		wantInMsg string
	}{
		{"bad namespace", "kv_get", args(g.str("Bad/NS"), key), -abi.CodeInvalid, "namespace"},
		{"namespace starting with a digit", "kv_get", args(g.str("1ns"), key), -abi.CodeInvalid, "namespace"},
		{"long namespace", "kv_get", args(g.str(strings.Repeat("a", 129)), key), -abi.CodeInvalid, "namespace"},
		{"empty key", "kv_get", args(ns, []uint64{0, 0}), -abi.CodeInvalid, "empty key"},
		{"long key", "kv_put", args(ns, g.str(strings.Repeat("k", maxKeyBytes+1)), val), -abi.CodeTooLarge, "key of 1025"},
		{"long value", "kv_put", args(ns, key, g.str(strings.Repeat("v", hostLimits.MaxMessageBytes+1))), -abi.CodeTooLarge, "value of 1025"},
	} {
		g.wantCode(tc.name, g.call(tc.fn, tc.args...), tc.want, f.env, tc.wantInMsg)
	}
	if n := f.denials(t, "kv"); n != 0 {
		t.Fatalf("malformed kv calls counted %d denials", n)
	}

	// A stored value over MaxReplyBytes (written by a bigger-limit
	// deployment, say) cannot be returned.
	_ = store.Put(context.Background(), f.env.comp.name+"/notes/big", make([]byte, hostLimits.MaxReplyBytes+1))
	g.wantCode("kv_get big", g.call("kv_get", args(ns, g.str("big"))...), -abi.CodeTooLarge, f.env, "value of 1025")

	f.wantDenied(t, g.call("kv_put", args(g.str("readonly"), key, val)...), "kv", "kv:write:readonly", "readonly")
}

func TestHostKVDeleteNeedsWrite(t *testing.T) {
	f := hostNewEnv(t, nil, "kv:read:notes")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	f.wantDenied(t, g.call("kv_delete", args(g.str("notes"), g.str("k"))...), "kv", "kv:write:notes", "notes")
}

// TestHostKVNamespacesArePerComponent checks that two components granted
// the same namespace over one store see different data.
func TestHostKVNamespacesArePerComponent(t *testing.T) {
	store := state.NewMemory(0)
	a := hostNewEnv(t, store, "kv:read:notes", "kv:write:notes")
	b := hostNewEnv(t, store, "kv:read:notes", "kv:write:notes")
	ga := hostInstantiate(t, "host_calls.wat", a.env)
	gb := hostInstantiate(t, "host_calls.wat", b.env)
	ga.wantCode("a puts", ga.call("kv_put", args(ga.str("notes"), ga.str("k"), ga.str("from a"))...), 0, a.env, "")
	gb.wantCode("b gets", gb.call("kv_get", args(gb.str("notes"), gb.str("k"))...), -abi.CodeNotFound, b.env, "not_found")
	gb.wantCode("b puts", gb.call("kv_put", args(gb.str("notes"), gb.str("k"), gb.str("from b"))...), 0, b.env, "")
	if r := ga.call("kv_get", args(ga.str("notes"), ga.str("k"))...); ga.pending(r) != "from a" {
		t.Errorf("a reads %q after b wrote, want its own value", a.env.result)
	}
}

// hostFailingStore is a state.Store whose backend is down.
type hostFailingStore struct{ err error }

func (s hostFailingStore) Get(context.Context, string) ([]byte, error) { return nil, s.err }
func (s hostFailingStore) GetEntry(context.Context, string) (state.Entry, error) {
	return state.Entry{}, s.err
}
func (s hostFailingStore) Put(context.Context, string, []byte) error { return s.err }
func (s hostFailingStore) PutIf(context.Context, string, []byte, uint64) (uint64, error) {
	return 0, s.err
}
func (s hostFailingStore) Delete(context.Context, string) error { return s.err }

func TestHostKVStoreErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{errors.New("connection refused"), -abi.CodeUnavailable},
		{context.DeadlineExceeded, -abi.CodeTimeout},
		{state.ErrInvalidKey, -abi.CodeInvalid},
	} {
		f := hostNewEnv(t, hostFailingStore{tc.err}, "kv:read:notes", "kv:write:notes")
		g := hostInstantiate(t, "host_calls.wat", f.env)
		ns, key := g.str("notes"), g.str("k")
		g.wantCode("kv_get", g.call("kv_get", args(ns, key)...), tc.want, f.env, "")
		g.wantCode("kv_put", g.call("kv_put", args(ns, key, g.str("v"))...), tc.want, f.env, "")
		g.wantCode("kv_delete", g.call("kv_delete", args(ns, key)...), tc.want, f.env, "")
	}
}

func BenchmarkHostKVGet(b *testing.B) {
	f := hostNewEnv(b, nil, "kv:read:notes")
	_ = f.env.comp.store.Put(context.Background(), f.env.comp.name+"/notes/k", make([]byte, 64))
	g := hostInstantiate(b, "host_calls.wat", f.env)
	ns, key := g.str("notes"), g.str("k")
	b.ReportAllocs()
	b.ResetTimer()
	if r := g.call("kv_get_loop", args(ns, key, []uint64{uint64(b.N)})...); r != 64 {
		b.Fatalf("kv_get = %d", r)
	}
}
