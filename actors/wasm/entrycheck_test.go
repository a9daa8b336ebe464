package wasm

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/troupehq/troupe/actors"
)

// rtBranchingRecursion has no loop: f calls itself twice to depth 40, 2^40
// calls, which only a check at function entry can interrupt.
const rtBranchingRecursion = `(module
  (func $f (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (i32.add (call $f (i32.sub (local.get $n) (i32.const 1)))
                     (call $f (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "spin") (result i32) (local i64 i32 f64) (call $f (i32.const 40))))`

// TestEntryChecksStopBranchingRecursion closes a module mid-call from
// another goroutine, as the watchdog does: with entry checks the call ends.
func TestEntryChecksStopBranchingRecursion(t *testing.T) {
	wasm, err := addEntryChecks(rtCompileWAT(t, rtBranchingRecursion))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { _ = rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatalf("the rewritten module does not instantiate: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := mod.ExportedFunction("spin").Call(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	_ = mod.CloseWithExitCode(ctx, exitCodeDeadline)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the call finished 2^40 calls without error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the module did not stop the call: no check at function entry")
	}
}

// TestEntryChecksKeepSemantics runs guests rewritten and compares results.
func TestEntryChecksKeepSemantics(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	src := `(module
	  (func $fib (param $n i32) (result i32) (local $a i32) (local $b i32) (local $t i32)
	    (local.set $b (i32.const 1))
	    (block $done (loop $next
	      (br_if $done (i32.eqz (local.get $n)))
	      (local.set $t (i32.add (local.get $a) (local.get $b)))
	      (local.set $a (local.get $b)) (local.set $b (local.get $t))
	      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
	      (br $next)))
	    (local.get $a))
	  (func $early (param $x i32) (result i32)
	    (if (local.get $x) (then (return (i32.const 7))))
	    (i32.const 9))
	  (func (export "run") (result i32)
	    (i32.add (call $fib (i32.const 20)) (i32.add (call $early (i32.const 1)) (call $early (i32.const 0))))))`
	wasm, err := addEntryChecks(rtCompileWAT(t, src))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction("run").Call(ctx)
	if err != nil || res[0] != 6765+7+9 {
		t.Fatalf("run() = %v, %v; want %d", res, err, 6765+7+9)
	}
}

func TestEntryChecksRejectMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":             nil,
		"not wasm":          []byte("hello, world"),
		"truncated":         {0, 'a', 's', 'm', 1, 0, 0, 0, 10, 9, 1},
		"body past the end": {0, 'a', 's', 'm', 1, 0, 0, 0, 10, 3, 1, 9, 0},
		// Found by FuzzAddEntryChecks: wazero allocated 5 GiB for it.
		"count past the section": []byte("\x00asm\x01\x00\x00\x00\v\x05\xff\xff\xff2\x9e"),
		// One function with 2^32-1 locals of type i32.
		"too many locals": {0, 'a', 's', 'm', 1, 0, 0, 0, 10, 10, 1, 8, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b},
	} {
		if _, err := addEntryChecks(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := addEntryChecks([]byte{0, 'a', 's', 'm', 1, 0, 0, 0}); err != nil {
		t.Errorf("an empty module: %v", err)
	}
}

// FuzzAddEntryChecks feeds the rewriter untrusted bytes: it must never
// panic, and whatever wazero accepts before the rewrite it must accept
// after.
func FuzzAddEntryChecks(f *testing.F) {
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 10, 6, 1, 4, 0, 0x41, 1, 0x0b})
	f.Add([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 10, 9, 1})
	f.Add(moduleWithData(appendDataSegments(nil, []dataSegment{{off: 8, data: []byte("ab")}, {off: 0, data: []byte("c")}, {off: 30, data: []byte("d")}})))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := addEntryChecks(b)
		if err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, b); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("valid module invalid after the rewrite: %v", err)
		}
	})
}

// TestComponentBranchingRecursionTimesOut is the malicious guest the entry
// checks exist for, through the runtime: the caller gets a timeout, the
// process can still collect garbage (a goroutine stuck in machine code
// would block that forever), and a fresh instance answers afterwards.
func TestComponentBranchingRecursionTimesOut(t *testing.T) {
	const guest = `(module
	  (memory (export "memory") 1)
	  (func (export "troupe_abi_v1"))
	  (func (export "troupe_alloc") (param i32) (result i32) (i32.const 1024))
	  (func $f (param $n i32) (result i32)
	    (if (result i32) (i32.eqz (local.get $n))
	      (then (i32.const 1))
	      (else (i32.add (call $f (i32.sub (local.get $n) (i32.const 1)))
	                     (call $f (i32.sub (local.get $n) (i32.const 1)))))))
	  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
	    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 115)) ;; "s": spin
	      (then (drop (call $f (i32.const 40)))))
	    (i64.const 0)))`
	e := rtNew(t, RuntimeOptions{})
	c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "fork", rtCompileWAT(t, guest), "message_timeout_ms = 100"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var te *actors.TimeoutError
	if _, err := e.request(ref, "spin"); !errors.As(err, &te) {
		t.Fatalf("Request = %v, want a timeout", err)
	}
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(10 * time.Second):
		t.Fatal("garbage collection is blocked")
	}
	if got, err := e.request(ref, "x"); err != nil || got != nil {
		t.Fatalf("after the restart: %v, %v", got, err)
	}
}

// TestEntryChecksSkipLeaves leaves functions that make no call alone: they
// cannot run long without a loop, and loops carry their own checks.
func TestEntryChecksSkipLeaves(t *testing.T) {
	src := `(module
	  (func $leaf (result i32) (i32.const 2))
	  (func (export "caller") (result i32) (call $leaf)))`
	in := rtCompileWAT(t, src)
	out, err := addEntryChecks(in)
	if err != nil {
		t.Fatal(err)
	}
	// One function rewritten: three bytes of loop, plus nothing else (the
	// section and body sizes stay one byte long).
	if got := len(out) - len(in); got != len(emptyLoop) {
		t.Errorf("the rewrite added %d bytes, want %d: one check, in the caller only", got, len(emptyLoop))
	}
}
