package actors

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// route asks the actor named Names[0] with the rest; with Names empty it
// answers that it ended. Each actor on the way first sleeps for its name's
// Sleeps, and waits on the next for its name's Timeouts (else 10 s).
type route struct {
	Names    []string                 `json:"names"`
	Sleeps   map[string]time.Duration `json:"sleeps,omitempty"`
	Timeouts map[string]time.Duration `json:"timeouts,omitempty"`
}

// routeReply is a route's answer: the end reached, or the error a hop got.
type routeReply struct {
	End   bool   `json:"end,omitempty"`
	Err   string `json:"err,omitempty"`
	Cycle bool   `json:"cycle,omitempty"` // errors.Is(err, ErrCycle)
}

func init() {
	RegisterMessage[route]("actors.test.route")
	RegisterMessage[routeReply]("actors.test.route_reply")
}

// router follows routes, and tells replies what each of its own Requests
// got.
func router(replies chan<- routeReply) Producer {
	return func() Actor {
		return fn(func(c *Context, msg any) {
			m, ok := msg.(route)
			if !ok {
				return
			}
			self := c.Self().Name()
			time.Sleep(m.Sleeps[self])
			if len(m.Names) == 0 {
				c.Respond(routeReply{End: true})
				return
			}
			next, err := c.System().Lookup(m.Names[0])
			var rep routeReply
			if err == nil {
				timeout := m.Timeouts[self]
				if timeout == 0 {
					timeout = 10 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				var v any
				v, err = c.Request(ctx, next, route{Names: m.Names[1:], Sleeps: m.Sleeps})
				cancel()
				rep, _ = v.(routeReply)
			}
			if err != nil {
				rep = routeReply{Err: err.Error(), Cycle: errors.Is(err, ErrCycle)}
			}
			replies <- rep
			c.Respond(rep)
		})
	}
}

// TestCycleAcrossNodes: request cycles through two nodes are found where
// they close — on receipt of the Request that closes one, or at a local
// Request whose chain came from the other node — and failed fast; a chain
// through the same actors that closes no cycle, and a chain made stale by
// a caller that gave up, report none.
func TestCycleAcrossNodes(t *testing.T) {
	srv := natstest.Run(t)
	recs := []*recorder{newRecorder(), newRecorder()}
	replies := make(chan routeReply, 64)
	var nodes []*System
	for i, name := range []string{"a", "b"} {
		recs[i].sample = func(context.Context, any) bool { return false }
		s := startNode(t, testClusterConfig(clusterConn(t, srv), fmt.Sprint("n", i+1)), WithObserver(recs[i]), WithCycleDetection(true))
		for _, n := range []string{name, name + "2"} {
			if _, err := s.Spawn(n, router(replies)); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, s)
	}
	// a and a2 live on n1, b and b2 on n2.
	for _, n := range []string{"a", "a2", "b", "b2"} {
		lookup(t, nodes[0], n)
		lookup(t, nodes[1], n)
	}
	a := lookup(t, nodes[0], "a")

	for _, tc := range []struct {
		name  string
		route []string // after a
		node  int      // where the cycle closes
		hops  []string // its actors, a first
	}{
		{"closed on receipt", []string{"b", "a"}, 0, []string{"a", "b"}},
		{"through a local hop on the other node", []string{"b", "b2", "a"}, 0, []string{"a", "b", "b2"}},
		{"closed by a local request", []string{"b", "a2", "a"}, 0, []string{"a", "b", "a2"}},
		{"closed on the other node", []string{"b", "a2", "b"}, 1, []string{"b", "a2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emptyChan(replies)
			v, err := ask(t, nodes[0], a, route{Names: tc.route})
			if rep, _ := v.(routeReply); err != nil || !rep.Cycle {
				t.Fatalf("reply = %+v, %v; want the innermost request's ErrCycle", v, err)
			}
			c := wait(t, recs[tc.node].cyc, "the cycle")
			var got []string
			for i, h := range c.Hops {
				got = append(got, h.From.Name())
				if next := c.Hops[(i+1)%len(c.Hops)].From; h.To != next {
					t.Errorf("hop %d goes to %s, the next hop is from %s", i, h.To, next)
				}
				if h.Message != "actors.route" {
					t.Errorf("hop %d waits on %q", i, h.Message)
				}
				if h.Since.IsZero() || h.Since.After(c.Detected) {
					t.Errorf("hop %d waits since %v, detected %v", i, h.Since, c.Detected)
				}
			}
			if !reflect.DeepEqual(got, tc.hops) {
				t.Errorf("cycle %s: actors %v, want %v", c, got, tc.hops)
			}
			if r := wait(t, recs[tc.node].cyc, "its resolution"); r.ID != c.ID || r.Resolution != "failed fast" {
				t.Errorf("resolution %+v", r)
			}
		})
	}

	t.Run("no cycle", func(t *testing.T) {
		v, err := ask(t, nodes[0], a, route{Names: []string{"b", "a2", "b2"}})
		if rep, _ := v.(routeReply); err != nil || !rep.End {
			t.Fatalf("reply = %+v, %v; want the end", v, err)
		}
	})

	t.Run("stale chain", func(t *testing.T) {
		// a gives up on b after 200 ms and goes on to wait on b2 for 1.5 s;
		// b asks a at 800 ms, with a chain that says a waits on b. a waits,
		// but not there: b's Request waits its turn and a answers it.
		emptyChan(replies) // the earlier routes' hops
		v, err := ask(t, nodes[0], a, route{
			Names:    []string{"b", "a"},
			Sleeps:   map[string]time.Duration{"b": 800 * time.Millisecond},
			Timeouts: map[string]time.Duration{"a": 200 * time.Millisecond},
		})
		if rep, _ := v.(routeReply); err != nil || rep.Cycle || rep.End {
			t.Fatalf("a's reply = %+v, %v; want its timeout", v, err)
		}
		go func() {
			_, _ = ask(t, nodes[0], a, route{Names: []string{"b2"}, Sleeps: map[string]time.Duration{"b2": 1500 * time.Millisecond}})
		}()
		for ends := 0; ends < 2; {
			rep := wait(t, replies, "b's and a's replies")
			if rep.Cycle {
				t.Fatalf("a hop got %+v", rep)
			}
			if rep.End {
				ends++
			}
		}
	})

	for i, r := range recs {
		select {
		case c := <-r.cyc:
			t.Errorf("node n%d reported a cycle on a chain that closes none: %s (%s)", i+1, c, c.Resolution)
		default:
		}
	}
}

// emptyChan empties ch.
func emptyChan[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestWaitsEncoding: a chain of waits survives the wire, a long one keeps
// its newest waits within a trace value's bound, and a corrupt one is an
// error.
func TestWaitsEncoding(t *testing.T) {
	hops := []waitHop{
		{from: wireAddr{node: "n1", id: 7, name: "a"}, msg: "actors.route", since: 1_700_000_000_000_000_000, stamp: 99},
		{from: wireAddr{node: "n2", id: 1 << 40}, since: -5, stamp: 3},
	}
	if ch, err := decodeWaits(encodeWaits(hops)); err != nil || !reflect.DeepEqual(ch.hops, hops) {
		t.Fatalf("round trip = %+v, %v; want %+v", ch, err, hops)
	}

	long := make([]waitHop, 100)
	for i := range long {
		long[i] = waitHop{from: wireAddr{node: "node-1", id: uint64(i + 1), name: fmt.Sprintf("%040d", i)}, msg: "actors.route", since: int64(i), stamp: Stamp(i)}
	}
	v := encodeWaits(long)
	ch, err := decodeWaits(v)
	switch {
	case len(v) > maxWireString:
		t.Errorf("encoded chain of %d bytes, more than a trace value's %d", len(v), maxWireString)
	case err != nil:
		t.Fatal(err)
	case len(ch.hops) == 0 || len(ch.hops) == len(long) || !reflect.DeepEqual(ch.hops, long[len(long)-len(ch.hops):]):
		t.Errorf("a long chain decoded as %d waits, want its newest that fit", len(ch.hops))
	}

	for _, bad := range []string{"not base64!", encodeWaits(hops)[:10], "AQ", strings.Repeat("A", maxWireString+4)} {
		if ch, err := decodeWaits(bad); err == nil {
			t.Errorf("decodeWaits(%q) = %+v, want an error", bad, ch)
		}
	}
}

// FuzzDecodeWaits: a chain of waits from another node never panics the
// decoder, and what it accepts encodes back to its newest waits.
func FuzzDecodeWaits(f *testing.F) {
	f.Add(encodeWaits([]waitHop{{from: wireAddr{node: "n1", id: 7, name: "a"}, msg: "m", since: 1, stamp: 2}}))
	f.Add(encodeWaits(nil))
	f.Add("AQ")
	f.Add("////")
	f.Fuzz(func(t *testing.T, v string) {
		ch, err := decodeWaits(v)
		if err != nil {
			return
		}
		again, err := decodeWaits(encodeWaits(ch.hops))
		if err != nil {
			t.Fatalf("re-encoding a decoded chain: %v", err)
		}
		if n := len(again.hops); n > len(ch.hops) || !reflect.DeepEqual(again.hops, ch.hops[len(ch.hops)-n:]) {
			t.Fatalf("re-encoded %+v as %+v", ch.hops, again.hops)
		}
	})
}

// TestCycleThroughEntitiesAcrossNodes: entity a, active on n1, asks
// entity b, active on n2, which asks a back: n1 finds the cycle on
// receipt, at a's activation.
func TestCycleThroughEntitiesAcrossNodes(t *testing.T) {
	srv := natstest.Run(t)
	recs := []*recorder{newRecorder(), newRecorder()}
	var nodes []*System
	for i := range 2 {
		recs[i].sample = func(context.Context, any) bool { return false }
		nodes = append(nodes, startNode(t, testClusterConfig(clusterConn(t, srv), fmt.Sprint("n", i+1)),
			WithObserver(recs[i]), WithCycleDetection(true), WithSharding("hop", hopper)))
	}
	// An entity is activated by the node that first sends to it.
	for i, key := range []string{"a", "b"} {
		ref, err := nodes[i].Entity("hop", key)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := ask(t, nodes[i], ref, route{}); err != nil || !v.(routeReply).End {
			t.Fatalf("activating %s on n%d: %v, %v", key, i+1, v, err)
		}
	}
	a, _ := nodes[0].Entity("hop", "a")
	v, err := ask(t, nodes[0], a, route{Names: []string{"b", "a"}})
	if rep, _ := v.(routeReply); err != nil || !rep.Cycle {
		t.Fatalf("reply = %+v, %v; want the innermost request's ErrCycle", v, err)
	}
	c := wait(t, recs[0].cyc, "the cycle, on n1")
	if len(c.Hops) != 2 || c.Hops[0].From.Node() != "n1" || c.Hops[1].From.Node() != "n2" {
		t.Errorf("cycle %s: want a's activation on n1, then b's on n2", c)
	}
}

// TestCycleThroughABusyActorAcrossNodes: a on n1 asks b on n2 while b is
// busy with a message nobody waits on (a Send), and that message makes b
// ask a. a's Request waits its turn in b's mailbox, so the two wait on
// each other; the chain of b's Request starts with a's queued wait, and n1
// finds the cycle on receipt. When a has given up on b before b asks, the
// queued wait is stale and nothing is reported.
func TestCycleThroughABusyActorAcrossNodes(t *testing.T) {
	srv := natstest.Run(t)
	recs := []*recorder{newRecorder(), newRecorder()}
	replies := make(chan routeReply, 64)
	var nodes []*System
	for i := range 2 {
		recs[i].sample = func(context.Context, any) bool { return false }
		nodes = append(nodes, startNode(t, testClusterConfig(clusterConn(t, srv), fmt.Sprint("n", i+1)),
			WithObserver(recs[i]), WithCycleDetection(true)))
	}
	if _, err := nodes[0].Spawn("a", router(replies)); err != nil {
		t.Fatal(err)
	}
	// busy, on n2, answers a route at once; a Send of release makes it
	// wait on the channel, then ask a.
	type release chan struct{}
	asked := make(chan error, 1)
	if _, err := nodes[1].Spawn("busy", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case route:
				c.Respond(routeReply{End: true})
			case release:
				<-m
				a, err := c.System().Lookup("a")
				if err == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_, err = c.Request(ctx, a, route{})
					cancel()
				}
				asked <- err
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	a := lookup(t, nodes[0], "a")
	busy := lookup(t, nodes[1], "busy")
	lookup(t, nodes[0], "busy")
	lookup(t, nodes[1], "a")
	queued := func() bool { return busy.ep.(*process).obs.queued.Load() != nil }

	t.Run("cycle", func(t *testing.T) {
		gate := make(release)
		if err := nodes[1].Send(busy, gate); err != nil {
			t.Fatal(err)
		}
		answered := make(chan any, 1)
		go func() {
			v, _ := ask(t, nodes[0], a, route{Names: []string{"busy"}})
			answered <- v
		}()
		eventually(t, "a's Request queued at busy", func() error {
			if !queued() {
				return errors.New("not yet")
			}
			return nil
		})
		close(gate)
		if err := wait(t, asked, "busy's Request"); !errors.Is(err, ErrCycle) {
			t.Fatalf("busy's Request to a got %v, want ErrCycle", err)
		}
		c := wait(t, recs[0].cyc, "the cycle")
		if len(c.Hops) != 2 || c.Hops[0].From.Name() != "a" || c.Hops[0].To.Name() != "busy" ||
			c.Hops[1].From.Name() != "busy" || c.Hops[1].To.Name() != "a" {
			t.Errorf("cycle %s, want a → busy → a", c)
		}
		if rep, _ := (wait(t, answered, "a's answer")).(routeReply); !rep.End {
			t.Errorf("a's answer %+v: busy answers a once its Request failed", rep)
		}
		if queued() {
			t.Error("a's wait is still noted as queued after busy handled it")
		}
	})

	t.Run("stale", func(t *testing.T) {
		emptyChan(recs[0].cyc)
		gate := make(release)
		if err := nodes[1].Send(busy, gate); err != nil {
			t.Fatal(err)
		}
		v, err := ask(t, nodes[0], a, route{Names: []string{"busy"}, Timeouts: map[string]time.Duration{"a": 100 * time.Millisecond}})
		if rep, _ := v.(routeReply); err != nil || rep.End || rep.Cycle {
			t.Fatalf("a's reply = %+v, %v; want its timeout", v, err)
		}
		eventually(t, "a's Request queued at busy", func() error {
			if !queued() {
				return errors.New("not yet")
			}
			return nil
		})
		close(gate) // busy asks a, which waits on nothing now
		if err := wait(t, asked, "busy's Request"); err != nil {
			t.Errorf("busy's Request to a: %v", err)
		}
		select {
		case c := <-recs[0].cyc:
			t.Errorf("a stale queued wait reported a cycle: %s", c)
		default:
		}
	})
}
