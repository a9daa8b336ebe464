package actors

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestDedicatedGoroutine runs an actor WithDedicatedGoroutine through
// bursts of messages, a failure and its restart, and a stop: while idle its
// drain goroutine stays parked (an ordinary actor has none), and after the
// stop it exits (goleak in TestMain checks that none is left).
func TestDedicatedGoroutine(t *testing.T) {
	s := newTestSystem(t)
	echo := func() Actor {
		return fn(func(c *Context, msg any) {
			if m, ok := msg.(string); ok {
				if m == "panic" {
					panic("provoked")
				}
				c.Respond(m)
			}
		})
	}
	ctx := context.Background()
	idle := func(ref Ref) {
		t.Helper()
		if got, err := s.Request(ctx, ref, "hi"); err != nil || got != "hi" {
			t.Fatalf("request: %v, %v", got, err)
		}
	}
	ordinary, err := s.Spawn("ordinary", echo)
	if err != nil {
		t.Fatal(err)
	}
	idle(ordinary)
	base := settledGoroutines()

	ref, err := s.Spawn("dedicated", echo, WithDedicatedGoroutine())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for range 10 {
			idle(ref)
		}
		if n := goroutinesSettleAt(base + 1); n != base+1 {
			t.Errorf("idle: %d goroutines, want %d (the parked drain goroutine)", n, base+1)
		}
	}
	if _, err := s.Request(ctx, ref, "panic"); err == nil {
		t.Fatal("a panicking Receive answered without error")
	}
	idle(ref)
	if n := goroutinesSettleAt(base + 1); n != base+1 {
		t.Errorf("idle after a restart: %d goroutines, want %d", n, base+1)
	}
	if err := s.Stop(ref); err != nil {
		t.Fatal(err)
	}
	wait(t, s.Done(ref), "the actor to stop")
	if n := goroutinesSettleAt(base); n != base {
		t.Errorf("after the stop: %d goroutines, want %d", n, base)
	}
}

// settledGoroutines counts goroutines once the count has held for 20
// samples a millisecond apart, so drain goroutines on their way out are not
// counted; on a loaded machine one can take a while to be scheduled.
func settledGoroutines() int {
	n, held := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(10 * time.Second); held < 20 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, held = m, 0
			continue
		}
		held++
	}
	return n
}

// goroutinesSettleAt waits (up to 10 s, a hang bound) for the goroutine
// count to settle at want and returns the count it settled at.
func goroutinesSettleAt(want int) int {
	n := settledGoroutines()
	for deadline := time.Now().Add(10 * time.Second); n != want && time.Now().Before(deadline); {
		n = settledGoroutines()
	}
	return n
}
