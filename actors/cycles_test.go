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

// answerer is an endpoint that answers every Request at once, on the
// caller's goroutine: a Request to it costs the reply slot and, with
// cycles watched, the detector's work, and no goroutine switch.
type answerer struct{ a address }

func (x *answerer) deliver(_ context.Context, env envelope) error {
	env.req.complete(env.msg, nil)
	return nil
}
func (x *answerer) poison() error         { return nil }
func (x *answerer) stop() error           { return nil }
func (x *answerer) done() <-chan struct{} { return nil }
func (x *answerer) addr() *address        { return &x.a }

// BenchmarkCycleWatch is what the cycle detector adds to an actor's
// Request, apart from the round trip (BenchmarkRequestNested measures it
// whole, and its goroutine switches vary more than the detector costs):
// a Request answered on the caller's goroutine, without the detector,
// with it, and with it from inside a Receive that another actor's Request
// waits on (the parent edge a nested request inherits).
func BenchmarkCycleWatch(b *testing.B) {
	for _, bc := range []struct {
		name   string
		opts   []Option
		nested bool
	}{
		{"off", nil, false},
		{"cycles", []Option{WithObserver(nopObserver{}), WithCycleDetection(false)}, false},
		{"cycles-nested", []Option{WithObserver(nopObserver{}), WithCycleDetection(false)}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newTestSystem(b, bc.opts...)
			ref, err := s.Spawn("", echoer)
			if err != nil {
				b.Fatal(err)
			}
			from, to := proc(ref), Ref{ep: &answerer{}}
			if bc.nested {
				// As if from were in Receive, handling a Request of an
				// actor that waits on it.
				from.obs.parent = &waitEdge{from: from}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.requestOnce(ctx, from, to, i&0xff); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCycleWatchFanOut: Requests an actor makes from goroutines its
// Receive starts, while Receive answers its own caller, race with nothing
// the detector keeps (run with -race).
func TestCycleWatchFanOut(t *testing.T) {
	s := newTestSystem(t, WithObserver(nopObserver{}), WithCycleDetection(true))
	echo, _ := s.Spawn("", echoer)
	fan, _ := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(int); !ok {
				return
			}
			errs := make(chan error, 3)
			for range 3 {
				go func() {
					_, err := c.Request(context.Background(), echo, "hi")
					errs <- err
				}()
			}
			c.Respond("answered")
			for range 3 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})
	})
	outer, _ := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(int); ok {
				v, err := c.Request(c.Context(), fan, msg)
				if err != nil {
					v = err
				}
				c.Respond(v)
			}
		})
	})
	for i := range 20 {
		if v, err := s.Request(context.Background(), outer, i); err != nil || v != "answered" {
			t.Fatalf("request %d = %v, %v", i, v, err)
		}
	}
}

// hopper is a sharded entity that follows routes by entity key, answering
// with the end reached or the error a hop got (see route).
func hopper(key string) Actor {
	return fn(func(c *Context, msg any) {
		m, ok := msg.(route)
		if !ok {
			return
		}
		if len(m.Names) == 0 {
			c.Respond(routeReply{End: true})
			return
		}
		next, err := c.System().Entity("hop", m.Names[0])
		var rep routeReply
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var v any
			v, err = c.Request(ctx, next, route{Names: m.Names[1:]})
			cancel()
			rep, _ = v.(routeReply)
		}
		if err != nil {
			rep = routeReply{Err: err.Error(), Cycle: errors.Is(err, ErrCycle)}
		}
		c.Respond(rep)
	})
}

// TestCycleThroughEntities: sharded entities that request each other
// wait on each other's activation, which the first Request of the cycle
// starts, so their cycle is found like any other.
func TestCycleThroughEntities(t *testing.T) {
	rec := newRecorder()
	rec.sample = func(context.Context, any) bool { return false }
	s := newTestSystem(t, WithObserver(rec), WithCycleDetection(true), WithSharding("hop", hopper))
	a, err := s.Entity("hop", "a")
	if err != nil {
		t.Fatal(err)
	}
	// b and c are activated by the cycle's own Requests.
	v, err := s.Request(context.Background(), a, route{Names: []string{"b", "c", "a"}})
	if rep, _ := v.(routeReply); err != nil || !rep.Cycle {
		t.Fatalf("reply = %+v, %v; want the innermost request's ErrCycle", v, err)
	}
	c := wait(t, rec.cyc, "the cycle")
	if len(c.Hops) != 3 {
		t.Fatalf("cycle %s has %d hops, want 3", c, len(c.Hops))
	}
	for i, h := range c.Hops {
		if next := c.Hops[(i+1)%3].From; h.To != next || h.From.IsZero() {
			t.Errorf("hop %d: %s → %s, the next hop is from %s", i, h.From, h.To, next)
		}
	}
	if v, err := s.Request(context.Background(), a, route{Names: []string{"b", "c"}}); err != nil || !v.(routeReply).End {
		t.Errorf("a chain through the same entities = %+v, %v; want the end", v, err)
	}
}
