package actors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"
)

// starts counts Started per actor name.
type starts struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *starts) inc(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[name]++
}

func (s *starts) get() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.n)
}

// worker counts its Started, answers "ping" and panics on "boom".
func worker(name string, st *starts) Producer {
	return func() Actor {
		return fn(func(c *Context, msg any) {
			switch msg {
			case Started{}:
				st.inc(name)
			case "ping":
				c.Respond("pong")
			case "boom":
				panic("boom in " + name)
			}
		})
	}
}

func TestStrategiesRestartTheRightChildren(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		want     map[string]int // Started count per child after c1 fails
	}{
		{"one-for-one", OneForOne(Backoff(0, 0)), map[string]int{"c0": 1, "c1": 2, "c2": 1}},
		{"one-for-all", OneForAll(Backoff(0, 0)), map[string]int{"c0": 2, "c1": 2, "c2": 2}},
		{"rest-for-one", RestForOne(Backoff(0, 0)), map[string]int{"c0": 1, "c1": 2, "c2": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSystem(t)
			st := &starts{n: map[string]int{}}
			ready := make(chan []Ref, 1)
			_, err := s.Spawn("parent", func() Actor {
				return fn(func(c *Context, msg any) {
					if _, ok := msg.(Started); !ok {
						return
					}
					var kids []Ref
					for i := range 3 {
						name := fmt.Sprint("c", i)
						ref, err := c.Spawn(name, worker(name, st))
						if err != nil {
							t.Error(err)
						}
						kids = append(kids, ref)
					}
					ready <- kids
				})
			}, WithSupervisor(tt.strategy))
			if err != nil {
				t.Fatal(err)
			}
			kids := wait(t, ready, "children")
			ctx := context.Background()
			for _, k := range kids { // all three have started
				if _, err := s.Request(ctx, k, "ping"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Request(ctx, kids[1], "boom"); err == nil {
				t.Fatal("Request that panicked returned no error")
			} else if pe := (*PanicError)(nil); !errors.As(err, &pe) {
				t.Errorf("Request that panicked = %v, want *PanicError", err)
			}
			// A ping queues behind any pending restart, so once each child
			// answered, every restart the failure caused has happened.
			for _, k := range kids {
				if v, err := s.Request(ctx, k, "ping"); err != nil || v != "pong" {
					t.Fatalf("ping %s after the failure = %v, %v", k, v, err)
				}
			}
			if got := st.get(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Started counts = %v, want %v", got, tt.want)
			}
			restarts := 0
			for _, n := range tt.want {
				restarts += n - 1
			}
			if got := s.Stats().Restarts; got != uint64(restarts) {
				t.Errorf("Stats.Restarts = %d, want %d", got, restarts)
			}
		})
	}
}

func TestIntensityExceededEscalatesToParent(t *testing.T) {
	s := newTestSystem(t, WithDefaults(Config{BackoffMin: time.Nanosecond}))
	events, cancel := s.Events().Subscribe(64)
	defer cancel()
	st := &starts{n: map[string]int{}}
	parent, err := s.Spawn("parent", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(Started); ok {
				st.inc("parent")
				if _, err := c.Spawn("child", worker("child", st)); err != nil {
					t.Error(err)
				}
			}
		})
	}, WithSupervisor(OneForOne(MaxRestarts(1, time.Hour), Backoff(0, 0))))
	if err != nil {
		t.Fatal(err)
	}
	child := lookupEventually(t, s, "child", Ref{})
	_ = s.Send(child, "boom") // restarted: 1 of 1 allowed
	_ = s.Send(child, "boom") // exceeds: the child gives up, the parent fails
	var escalated Escalated
	for escalated.Ref.IsZero() {
		if e, ok := wait(t, events, "Escalated").(Escalated); ok {
			escalated = e
		}
	}
	if escalated.Ref != child || escalated.Supervisor != parent {
		t.Errorf("Escalated = %+v, want child %s to parent %s", escalated, child, parent)
	}
	for {
		if r, ok := wait(t, events, "parent restart").(ActorRestarted); ok && r.Ref == parent {
			var ee *EscalationError
			if !errors.As(r.Reason, &ee) || ee.Child != child {
				t.Errorf("parent restart reason = %v, want an *EscalationError from the child", r.Reason)
			}
			break
		}
	}
	newChild := lookupEventually(t, s, "child", child)
	if v, err := s.Request(context.Background(), newChild, "ping"); err != nil || v != "pong" {
		t.Errorf("the restarted parent's new child: %v, %v", v, err)
	}
	if got := st.get(); got["parent"] != 2 || got["child"] != 3 {
		t.Errorf("Started counts = %v, want parent 2, child 3", got)
	}
}

func TestTopLevelIntensityExceededStopsTheActor(t *testing.T) {
	s := newTestSystem(t, WithDefaults(Config{MaxRestarts: 1, RestartWindow: time.Hour, BackoffMin: time.Nanosecond}))
	events, cancel := s.Events().Subscribe(64)
	defer cancel()
	st := &starts{n: map[string]int{}}
	ref, err := s.Spawn("fragile", worker("fragile", st))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Send(ref, "boom")
	_ = s.Send(ref, "boom")
	wait(t, s.Done(ref), "the actor to stop")
	var sawEscalated, sawStopped bool
	for !sawStopped {
		switch e := wait(t, events, "events").(type) {
		case Escalated:
			sawEscalated = e.Ref == ref && e.Supervisor.IsZero()
		case ActorStopped:
			sawStopped = e.Ref == ref && e.Reason != nil
		}
	}
	if !sawEscalated {
		t.Error("no Escalated event with a zero Supervisor")
	}
	if _, err := s.Lookup("fragile"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after giving up = %v, want ErrNotFound", err)
	}
}

func TestPanicIsContainedAndReported(t *testing.T) {
	s := newTestSystem(t, WithDefaults(Config{BackoffMin: time.Nanosecond}))
	events, cancel := s.Events().Subscribe(64)
	defer cancel()
	st := &starts{n: map[string]int{}}
	ref, err := s.Spawn("w", worker("w", st))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Request(context.Background(), ref, "boom")
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom in w" {
		t.Fatalf("Request = %v, want the *PanicError", err)
	}
	for {
		if f, ok := wait(t, events, "ActorFailed").(ActorFailed); ok {
			if f.Ref != ref || len(f.Stack) == 0 {
				t.Errorf("ActorFailed = %+v, want ref %s and a stack", f, ref)
			}
			break
		}
	}
	if v, err := s.Request(context.Background(), ref, "ping"); err != nil || v != "pong" {
		t.Errorf("after the panic: %v, %v", v, err)
	}
}

type byValue struct {
	events chan any
}

func (a *byValue) Receive(c *Context, msg any) {
	switch msg.(type) {
	case Started, Restarting:
		a.events <- msg
	case string:
		panic("fail")
	}
}

func TestSpawnActorGetsRestartingThenStarted(t *testing.T) {
	s := newTestSystem(t, WithDefaults(Config{BackoffMin: time.Nanosecond}))
	a := &byValue{events: make(chan any, 8)}
	ref, err := s.SpawnActor("", a)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := wait(t, a.events, "Started").(Started); !ok {
		t.Fatal("first message is not Started")
	}
	_ = s.Send(ref, "fail")
	if r, ok := wait(t, a.events, "Restarting").(Restarting); !ok || r.Reason == nil {
		t.Errorf("got %#v, want Restarting with a reason", r)
	}
	if _, ok := wait(t, a.events, "Started").(Started); !ok {
		t.Error("Restarting not followed by Started")
	}
}

// lookupEventually waits until name resolves to a Ref other than not.
func lookupEventually(t *testing.T, s *System, name string, not Ref) Ref {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ref, err := s.Lookup(name); err == nil && ref != not {
			return ref
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%q never registered", name)
	return Ref{}
}
