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
