package actors

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// journal records lines from many actors.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, s)
}

func TestShutdownDrainsInReverseSpawnOrderChildrenFirst(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := NewSystem()
	j := &journal{}
	counting := func(name string, child bool) Producer {
		return func() Actor {
			n := 0
			return fn(func(c *Context, msg any) {
				switch msg.(type) {
				case Started:
					if child {
						if _, err := c.Spawn(name+".child", func() Actor {
							return fn(func(_ *Context, msg any) {
								if _, ok := msg.(Stopped); ok {
									j.add(name + ".child")
								}
							})
						}); err != nil {
							t.Error(err)
						}
					}
				case int:
					n++
				case Stopped:
					if n != 100 {
						t.Errorf("%s stopped after %d of 100 queued messages", name, n)
					}
					j.add(name)
				}
			})
		}
	}
	var refs []Ref
	for _, name := range []string{"a", "b", "c"} {
		ref, err := s.Spawn(name, counting(name, name == "a"))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	for _, ref := range refs {
		for i := range 100 {
			if err := s.Send(ref, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c", "b", "a.child", "a"}; !slices.Equal(j.lines, want) {
		t.Errorf("stop order = %v, want %v", j.lines, want)
	}
	if _, err := s.Spawn("late", echoer); !errors.Is(err, ErrStopped) {
		t.Errorf("Spawn after Shutdown = %v, want ErrStopped", err)
	}
	if st := s.Stats(); st.Live != 0 || st.Processed < 300 {
		t.Errorf("Stats after Shutdown = %+v", st)
	}
}

func TestShutdownPastDeadlineStopsHard(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := NewSystem()
	dls, cancel := s.DeadLetters().Subscribe(16)
	defer cancel()
	entered, gate, got := make(chan struct{}), make(chan struct{}), make(chan int, 8)
	ref, err := s.Spawn("", gated(entered, gate, got))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Send(ref, "hold")
	wait(t, entered, "Receive")
	_ = s.Send(ref, 1)
	ctx, cancelCtx := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelCtx()
	done := make(chan error)
	go func() { done <- s.Shutdown(ctx) }()
	for !proc(ref).stopReq.Load() { // the hard stop has been requested
		runtime.Gosched()
	}
	close(gate)
	if err := wait(t, done, "Shutdown"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown past its deadline = %v, want DeadlineExceeded", err)
	}
	if dl := wait(t, dls, "dead letter"); dl.Message != 1 || dl.Reason != ReasonStopped {
		t.Errorf("dead letter = %+v, want the undrained message", dl)
	}
}

func TestPoisonProcessesWhatWasQueuedFirst(t *testing.T) {
	s := newTestSystem(t)
	dls, cancel := s.DeadLetters().Subscribe(8)
	defer cancel()
	entered, gate, got := make(chan struct{}), make(chan struct{}), make(chan int, 8)
	ref, err := s.Spawn("", gated(entered, gate, got))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Send(ref, "hold")
	wait(t, entered, "Receive")
	_ = s.Send(ref, 1)
	if err := s.Poison(ref); err != nil {
		t.Fatal(err)
	}
	_ = s.Send(ref, 2) // after the pill: a dead letter
	close(gate)
	wait(t, s.Done(ref), "stop")
	if m := wait(t, got, "message before the pill"); m != 1 {
		t.Errorf("processed %d, want 1", m)
	}
	if dl := wait(t, dls, "dead letter"); dl.Message != 2 || dl.Reason != ReasonStopped {
		t.Errorf("dead letter = %+v, want 2 (stopped)", dl)
	}
	if err := s.Poison(ref); !errors.Is(err, ErrStopped) {
		t.Errorf("Poison of a stopped actor = %v, want ErrStopped", err)
	}
}

func TestRegistry(t *testing.T) {
	s := newTestSystem(t)
	_, err := s.Lookup("nobody")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Name != "nobody" || !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup unknown = %v, want *NotFoundError", err)
	}
	ref, err := s.Spawn("svc", echoer)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Lookup("svc"); err != nil || got != ref {
		t.Errorf("Lookup = %v, %v; want %v", got, err, ref)
	}
	if ref.String() != "svc#"+itoa(ref.ID()) || ref.Name() != "svc" {
		t.Errorf("String = %q", ref.String())
	}
	_, err = s.Spawn("svc", echoer)
	var nt *NameTakenError
	if !errors.As(err, &nt) || nt.Name != "svc" || !errors.Is(err, ErrNameTaken) {
		t.Errorf("duplicate Spawn = %v, want *NameTakenError", err)
	}
	if err := s.Stop(ref); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ref); !errors.Is(err, ErrStopped) {
		t.Errorf("second Stop = %v, want ErrStopped", err)
	}
	wait(t, s.Done(ref), "stop")
	if _, err := s.Lookup("svc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after stop = %v, want ErrNotFound", err)
	}
	again, err := s.Spawn("svc", echoer)
	if err != nil {
		t.Fatalf("Spawn of a freed name: %v", err)
	}
	if again == ref || again.ID() == ref.ID() {
		t.Error("a new actor reused the old Ref")
	}
	if err := s.Send(ref, "stale"); !errors.Is(err, ErrStopped) {
		t.Errorf("Send to the stale Ref = %v, want ErrStopped", err)
	}
	if err := s.Send(Ref{}, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Send to the zero Ref = %v, want ErrNotFound", err)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestPubSubWildcardsAndAutoUnsubscribe(t *testing.T) {
	s := newTestSystem(t)
	got := make(chan string, 16)
	ready := make(chan struct{})
	ref, err := s.Spawn("sub", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case Started:
				for _, p := range []string{"orders.*", "audit.>"} {
					if _, err := c.Subscribe(p); err != nil {
						t.Error(err)
					}
				}
				close(ready)
			case string:
				got <- m
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, ready, "subscriptions")
	tests := []struct {
		subject string
		want    int
	}{
		{"orders.created", 1},
		{"orders.eu.created", 0},
		{"audit.login", 1},
		{"audit.login.failed", 1},
		{"audit", 0},
		{"other", 0},
	}
	for _, tt := range tests {
		n, err := s.Publish(tt.subject, tt.subject)
		if err != nil || n != tt.want {
			t.Errorf("Publish(%q) = %d, %v; want %d", tt.subject, n, err, tt.want)
		}
		if tt.want == 1 {
			if m := wait(t, got, tt.subject); m != tt.subject {
				t.Errorf("received %q, want %q", m, tt.subject)
			}
		}
	}
	if _, err := s.Publish("bad..subject", 1); err == nil {
		t.Error("Publish to an invalid subject succeeded")
	}
	if _, err := s.Subscribe(ref, "bad.>.x"); err == nil {
		t.Error("Subscribe to an invalid pattern succeeded")
	}
	cancel, err := s.Subscribe(ref, "extra")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if n, _ := s.Publish("extra", "x"); n != 0 {
		t.Errorf("Publish after cancel delivered %d", n)
	}
	_ = s.Stop(ref)
	wait(t, s.Done(ref), "stop")
	if n, _ := s.Publish("orders.created", "x"); n != 0 {
		t.Errorf("Publish after the subscriber stopped delivered %d", n)
	}
	if s.topics.Len() != 0 {
		t.Errorf("%d subscriptions left after stop", s.topics.Len())
	}
}

type tick struct{}

func TestTimersFireAndAreCancelledOnStopAndRestart(t *testing.T) {
	s := newTestSystem(t, WithDefaults(Config{BackoffMin: time.Nanosecond}))
	ticks := make(chan int, 64)
	timers := make(chan *Timer, 4)
	ref, err := s.Spawn("", func() Actor {
		n := 0
		return fn(func(c *Context, msg any) {
			switch msg.(type) {
			case Started:
				timers <- c.Every(time.Millisecond, tick{})
				c.After(time.Millisecond, "once")
			case tick:
				n++
				select {
				case ticks <- n:
				default:
				}
			case string:
				if msg == "boom" {
					panic("restart me")
				}
				ticks <- -1
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	first := wait(t, timers, "timer")
	seenOnce := false
	for n := 0; n < 3 || !seenOnce; {
		switch v := wait(t, ticks, "ticks"); v {
		case -1:
			seenOnce = true
		default:
			n = v
		}
	}
	_ = s.Send(ref, "boom")
	second := wait(t, timers, "timer after restart")
	if first.Stop() {
		t.Error("the restart left the old Every timer running")
	}
	_ = s.Stop(ref)
	wait(t, s.Done(ref), "stop")
	if second.Stop() {
		t.Error("Stop left the Every timer running")
	}
	if n := len(proc(ref).timers); n != 0 {
		t.Errorf("%d timers left", n)
	}
}
