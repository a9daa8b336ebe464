package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// relay asks the first actor of To with the rest, and answers with what
// it got (an error as a value); with To empty it answers "end".
type relay struct{ To []Ref }

func relayer() Actor {
	return fn(func(c *Context, msg any) {
		m, ok := msg.(relay)
		if !ok {
			return
		}
		if len(m.To) == 0 {
			c.Respond("end")
			return
		}
		v, err := c.Request(c.Context(), m.To[0], relay{To: m.To[1:]})
		if err != nil {
			c.Respond(err)
			return
		}
		c.Respond(v)
	})
}

// spawnRelays spawns n relays named r0..r(n-1).
func spawnRelays(t *testing.T, s *System, n int) []Ref {
	t.Helper()
	refs := make([]Ref, n)
	for i := range refs {
		ref, err := s.Spawn(fmt.Sprintf("r%d", i), relayer)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	return refs
}

// loop is the route r0 → r1 → … → r(n-1) → r0 sent to r0.
func loop(refs []Ref) relay { return relay{To: append(append([]Ref{}, refs[1:]...), refs[0])} }

func TestCycleFailsFast(t *testing.T) {
	for _, n := range []int{2, 3, 10} {
		t.Run(fmt.Sprintf("%d actors", n), func(t *testing.T) {
			rec := newRecorder()
			s := newTestSystem(t, WithObserver(rec), WithCycleDetection(true))
			rec.sample = func(context.Context, any) bool { return false }
			refs := spawnRelays(t, s, n)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			v, err := s.Request(ctx, refs[0], loop(refs))
			if err != nil {
				t.Fatal(err)
			}
			var ce *CycleError
			if e, ok := v.(error); !ok || !errors.As(e, &ce) || !errors.Is(e, ErrCycle) {
				t.Fatalf("reply = %#v, want the innermost request's *CycleError", v)
			}
			if time.Since(start) > 30*time.Second {
				t.Error("the cycle waited for its deadline")
			}
			c := wait(t, rec.cyc, "the cycle")
			checkCycle(t, c, refs)
			if ce.Cycle.ID != c.ID {
				t.Errorf("error's cycle %d, reported %d", ce.Cycle.ID, c.ID)
			}
			if r := wait(t, rec.cyc, "its resolution"); r.ID != c.ID || r.Resolution != "failed fast" || r.Resolved.IsZero() {
				t.Errorf("resolution: %+v", r)
			}
		})
	}
}

// checkCycle checks that c is the loop through refs, r0 first.
func checkCycle(t *testing.T, c Cycle, refs []Ref) {
	t.Helper()
	if len(c.Hops) != len(refs) {
		t.Fatalf("cycle %s has %d hops, want %d", c, len(c.Hops), len(refs))
	}
	// The innermost request closes the cycle: r(n-1) → r0 is last.
	for i, h := range c.Hops {
		from, to := refs[i], refs[(i+1)%len(refs)]
		if h.From != from || h.To != to || h.Message != "actors.relay" || h.Since.IsZero() || h.Since.After(c.Detected) {
			t.Errorf("hop %d = %+v, want %s → %s", i, h, from, to)
		}
	}
	if want := "r0#"; !strings.HasPrefix(c.String(), want) {
		t.Errorf("String() = %q", c.String())
	}
}

// TestCycleResolvesAtItsDeadline: without fail-fast a cycle is reported
// while it waits and again when its deadline ends it.
func TestCycleResolvesAtItsDeadline(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec), WithCycleDetection(false))
	rec.sample = func(context.Context, any) bool { return false }
	refs := spawnRelays(t, s, 3)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	go func() {
		v, err := s.Request(ctx, refs[0], loop(refs))
		if e, ok := v.(error); ok && err == nil {
			err = e // an inner request's timeout, answered as a value
		}
		done <- err
	}()
	c := wait(t, rec.cyc, "the cycle")
	checkCycle(t, c, refs)
	select {
	case err := <-done:
		t.Fatalf("the request returned (%v) before its deadline", err)
	default:
	}
	if err := wait(t, done, "the deadline"); !errors.Is(err, ErrTimeout) {
		t.Errorf("outer request: %v, want a timeout", err)
	}
	r := wait(t, rec.cyc, "the resolution")
	if r.ID != c.ID || r.Resolved.IsZero() || r.Resolution != "timed out" {
		t.Errorf("resolution = %+v", r)
	}
}

// TestNoCycleOnALongChain: a chain of 50 actors each waiting on the next
// is not a cycle.
func TestNoCycleOnALongChain(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec), WithCycleDetection(true))
	rec.sample = func(context.Context, any) bool { return false }
	refs := spawnRelays(t, s, 50)
	for range 3 {
		v, err := s.Request(context.Background(), refs[0], relay{To: refs[1:]})
		if err != nil || v != "end" {
			t.Fatalf("chain = %v, %v", v, err)
		}
	}
	// Chains that meet, in parallel, always taking the actors in one
	// order: they queue behind each other but never wait in a circle.
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			v, err := s.Request(context.Background(), refs[i], relay{To: refs[i+1:]})
			if v != "end" && err == nil {
				err = fmt.Errorf("reply %v", v)
			}
			errs <- err
		}()
	}
	for range 10 {
		if err := wait(t, errs, "a chain"); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.cycles) != 0 {
		t.Errorf("cycles reported on chains: %v", rec.cycles)
	}
}

// TestCycleThroughForward: a request forwarded to another actor waits on
// that one, so a cycle closing through it is found.
func TestCycleThroughForward(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec), WithCycleDetection(true))
	rec.sample = func(context.Context, any) bool { return false }
	refs := spawnRelays(t, s, 2)
	router, _ := s.Spawn("router", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(relay); ok {
				_ = c.Forward(refs[1])
			}
		})
	})
	// r0 asks the router, which hands the request to r1, which asks r0.
	v, _ := s.Request(context.Background(), refs[0], relay{To: []Ref{router, refs[0]}})
	if e, ok := v.(error); !ok || !errors.Is(e, ErrCycle) {
		t.Fatalf("reply = %#v, want ErrCycle", v)
	}
	c := wait(t, rec.cyc, "the cycle")
	checkCycle(t, c, refs)
}

// TestCycleWithoutObserver: fail-fast works with nobody told.
func TestCycleWithoutObserver(t *testing.T) {
	s := newTestSystem(t, WithCycleDetection(true))
	refs := spawnRelays(t, s, 2)
	v, err := s.Request(context.Background(), refs[0], loop(refs))
	if e, ok := v.(error); err != nil || !ok || !errors.Is(e, ErrCycle) {
		t.Fatalf("reply = %#v, %v", v, err)
	}
}
