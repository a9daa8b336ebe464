package wasm

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

func TestComponentCall(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "fn", rtEcho(t, "v1"), "message_timeout_ms = 300\nmax_cpu_cores = 2"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if got, err := c.Call(ctx, []byte("hello")); err != nil || string(got) != "hello" {
		t.Fatalf("Call = %q, %v", got, err)
	}
	var ge *GuestError
	if _, err := c.Call(ctx, []byte("err:bad input")); !errors.As(err, &ge) || ge.Message != "bad input" {
		t.Fatalf("guest error: %v", err)
	}
	if _, err := c.Call(ctx, make([]byte, 2<<20)); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("a 2 MiB message: %v, want ErrMessageTooLarge", err)
	}

	// A runaway call is stopped and its instance discarded; the next call
	// gets a fresh one.
	var te *actors.TimeoutError
	if _, err := c.Call(ctx, []byte("loop")); !errors.As(err, &te) {
		t.Fatalf("Call(loop) = %v, want a timeout", err)
	}
	if got, err := c.Call(ctx, []byte("after")); err != nil || string(got) != "after" {
		t.Fatalf("after the timeout: %q, %v", got, err)
	}

	// max_cpu_cores = 2: four concurrent 100 ms naps run two at a time,
	// on two instances.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Call(ctx, []byte("nap")); err != nil {
				t.Errorf("nap: %v", err)
			}
		})
	}
	wg.Wait()
	c.calls.mu.Lock()
	idle := len(c.calls.idle)
	c.calls.mu.Unlock()
	if idle > 2 {
		t.Errorf("%d idle instances after concurrent calls; max_cpu_cores is 2", idle)
	}

	// A caller waiting for an instance gives up with its context.
	for range 2 {
		c.calls.slots <- struct{}{}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Call(short, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call with every instance busy: %v, want the context's deadline", err)
	}
	<-c.calls.slots
	<-c.calls.slots
}

// TestComponentCallAfterReload serves calls from the new version once a
// reload has swapped it in.
func TestComponentCallAfterReload(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	m := rtComponent(t, e.dir, "fn", rtEcho(t, "v1"), "")
	c, err := e.rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := c.Call(ctx, []byte("version")); err != nil || string(got) != "v1" {
		t.Fatalf("version = %q, %v", got, err)
	}
	rtWrite(t, m.WASMPath(), rtEcho(t, "v2"))
	if err := e.rt.Reload(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Call(ctx, []byte("version")); err != nil || string(got) != "v2" {
		t.Fatalf("version after the reload = %q, %v", got, err)
	}
}

// gatedWAT is a guest whose every message asks the actor "gate" for a
// reply and then answers with nothing: a call that stays in flight until
// the test lets the gate answer.
const gatedWAT = `(module
  (import "troupe" "request" (func $request (param i32 i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "gate")
  (func (export "troupe_abi_v1"))
  (func (export "troupe_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "troupe_receive") (param i32 i32 i32) (result i64)
    (drop (call $request (i32.const 0) (i32.const 4) (local.get 1) (local.get 2) (i32.const 0)))
    (i64.const 0)))`

// TestCallDuringCloseClosesItsInstance is a Call that finishes after Close
// has emptied the idle pool: its instance must be closed, not put back in a
// pool nobody will empty again (that leaked its serve-loop coroutine and its
// memory mapping). The test holds Close between emptying the pool and
// closing the component's wazero runtime, where the race puts it. Close
// stops the call, which fails with ErrClosed once its host call returns.
func TestCallDuringCloseClosesItsInstance(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	entered, release := make(chan struct{}, 1), make(chan struct{})
	if _, err := e.sys.Spawn("gate", func() actors.Actor {
		return rtActor(func(c *actors.Context, msg any) {
			if _, ok := msg.([]byte); ok {
				entered <- struct{}{}
				<-release
				c.Respond([]byte("open"))
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "gated", rtCompileWAT(t, gatedWAT),
		"message_timeout_ms = 60000\nmax_cpu_cores = 2\n\n[security]\ncapabilities = [\"actor:request:gate\"]"))
	if err != nil {
		t.Fatal(err)
	}
	called := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), []byte("x"))
		called <- err
	}()
	<-entered // the call is in flight, its instance out of the pool

	// One idle instance, whose closing shows that Close emptied the pool.
	v := c.cur.Load()
	idle, err := c.callInstance(context.Background(), &c.calls)
	if err != nil {
		t.Fatal(err)
	}
	c.calls.mu.Lock()
	c.calls.idle = append(c.calls.idle, idle)
	c.calls.mu.Unlock()
	live := func() int { v.mu.Lock(); defer v.mu.Unlock(); return v.live }
	before := live()

	c.reloadMu.Lock() // Close waits here, after closeCalls
	closed := make(chan error, 1)
	go func() { closed <- e.rt.Close(context.Background()) }()
	rtEventually(t, "Close to empty the idle pool", func() bool { return live() == before-1 })
	close(release)
	if err := <-called; !errors.Is(err, ErrClosed) {
		t.Errorf("the call in flight got %v, want ErrClosed", err)
	}
	c.reloadMu.Unlock()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if n := live(); n != 0 {
		t.Errorf("%d instances still open after Close and the last Call returned, want 0", n)
	}
}

// rtActor adapts a function to actors.Actor.
type rtActor func(c *actors.Context, msg any)

// Receive implements actors.Actor.
func (f rtActor) Receive(c *actors.Context, msg any) { f(c, msg) }
