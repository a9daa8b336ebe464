package actors

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer that traces every message (or those sample
// accepts) and keeps what it is told.
type recorder struct {
	sample func(ctx context.Context, msg any) bool
	mu     sync.Mutex
	obs    []Observation
	cycles []Cycle
	seen   chan Observation
	cyc    chan Cycle
}

func newRecorder() *recorder {
	return &recorder{seen: make(chan Observation, 256), cyc: make(chan Cycle, 64)}
}

// Sampling asks about every message: the recorder picks by message.
func (r *recorder) Sampling() *Sampling { return NewSampling(0, AskEvery) }

func (r *recorder) Sample(ctx context.Context, _ Ref, msg any) bool {
	if r.sample != nil {
		return r.sample(ctx, msg)
	}
	return true
}

func (r *recorder) Observe(o *Observation) {
	r.mu.Lock()
	r.obs = append(r.obs, *o)
	r.mu.Unlock()
	r.seen <- *o
}

func (r *recorder) Cycle(c Cycle) {
	r.mu.Lock()
	r.cycles = append(r.cycles, c)
	r.mu.Unlock()
	r.cyc <- c
}

// next returns the next observation of a user message (lifecycle
// messages are never traced).
func (r *recorder) next(t *testing.T) Observation {
	t.Helper()
	return wait(t, r.seen, "an observation")
}

// replier answers requests with the message, panics on "boom", forwards
// "fwd" to to, and leaves "silent" unanswered.
func replier(to *Ref) Producer {
	return func() Actor {
		return fn(func(c *Context, msg any) {
			switch msg {
			case Started{}, Stopping{}, Stopped{}:
			case "boom":
				panic("boom")
			case "fwd":
				_ = c.Forward(*to)
			case "silent":
			default:
				c.Respond(msg)
			}
		})
	}
}

func TestObserverTracesMessages(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec))
	var echo Ref
	echo, _ = s.Spawn("echo", echoer)
	ref, err := s.Spawn("a", replier(&echo))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		msg     any
		outcome string
		replied bool
	}{
		{"hi", OutcomeReplied, true},
		{"silent", OutcomeNoReply, false},
		{"fwd", OutcomeForwarded, false},
	} {
		if _, err := s.Request(ctx, ref, tc.msg); err != nil && tc.outcome != OutcomeNoReply {
			t.Fatalf("%v: %v", tc.msg, err)
		}
		o := rec.next(t)
		if tc.msg == "fwd" {
			// The forwarded leg, to echo, is a message of its own, and
			// may end first.
			leg := rec.next(t)
			if o.Actor == echo {
				o, leg = leg, o
			}
			if leg.Actor != echo || leg.Outcome != OutcomeReplied {
				t.Errorf("forwarded leg: %+v", leg)
			}
		}
		if o.Kind != ObservedMessage || o.Actor != ref || o.Message != tc.msg || !o.Request || o.Outcome != tc.outcome {
			t.Errorf("%v: observed %+v, want outcome %q", tc.msg, o, tc.outcome)
		}
		if o.Enqueued.IsZero() || o.Started < o.Enqueued || o.Ended < o.Started || o.Replied.IsZero() == tc.replied {
			t.Errorf("%v: times enqueued %v started %v replied %v ended %v", tc.msg, o.Enqueued, o.Started, o.Replied, o.Ended)
		}
	}
	if err := s.Send(ref, "silent"); err != nil {
		t.Fatal(err)
	}
	if o := rec.next(t); o.Outcome != OutcomeDone || o.Request || o.Message != "silent" {
		t.Errorf("send: %+v", o)
	}
}

func TestObserverTracesFailuresDeadLettersAndRestarts(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec))
	ref, err := s.Spawn("a", replier(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request(context.Background(), ref, "boom"); err == nil {
		t.Fatal("a panic answered the request")
	}
	var failed, restarted bool
	for !failed || !restarted {
		switch o := rec.next(t); o.Kind {
		case ObservedMessage:
			var pe *PanicError
			failed = o.Outcome == OutcomeFailed && errors.As(o.Err, &pe)
		case ObservedRestart:
			restarted = o.Actor == ref && o.Err != nil
		}
	}
	// A message to a stopped actor is a dead letter, traced or not.
	_ = s.Stop(ref)
	<-s.Done(ref)
	if err := s.Send(ref, "late"); !errors.Is(err, ErrStopped) {
		t.Fatalf("Send to a stopped actor: %v", err)
	}
	o := rec.next(t)
	if o.Kind != ObservedDeadLetter || o.Outcome != ReasonStopped || o.Message != "late" || o.Enqueued.IsZero() {
		t.Errorf("dead letter: %+v", o)
	}
	// Subscribers still get the message, not the wrapper.
	dl, cancel := s.DeadLetters().Subscribe(1)
	defer cancel()
	_ = s.Send(ref, "later")
	if d := wait(t, dl, "a dead letter"); d.Message != "later" {
		t.Errorf("dead letter message = %#v", d.Message)
	}
}

// TestObserverSeesTheCause checks that Sample gets the context of the
// request the sender handles — passed on to a Request, or the values only
// for a Send — so what an actor sends carries its cause.
func TestObserverSeesTheCause(t *testing.T) {
	type key struct{}
	rec := newRecorder()
	causes := make(chan any, 4)
	rec.sample = func(ctx context.Context, msg any) bool {
		if msg == "inner" || msg == "note" {
			causes <- ctx.Value(key{})
			if _, ok := ctx.Deadline(); ok && msg == "note" {
				causes <- "a Send got the request's deadline"
			}
		}
		return false
	}
	s := newTestSystem(t, WithObserver(rec))
	inner, _ := s.Spawn("inner", echoer)
	sink, _ := s.SpawnActor("sink", fn(func(*Context, any) {}))
	outer, _ := s.Spawn("outer", func() Actor {
		return fn(func(c *Context, msg any) {
			if msg == "go" {
				v, err := c.Request(c.Context(), inner, "inner")
				if err != nil {
					panic(err)
				}
				_ = c.Send(sink, "note")
				c.Respond(v)
			}
		})
	})
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "cause"), time.Minute)
	defer cancel()
	if _, err := s.Request(ctx, outer, "go"); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"the Request", "the Send"} {
		if got := wait(t, causes, "a sample"); got != "cause" {
			t.Errorf("Sample of %s saw %v, want the outer request's context", what, got)
		}
	}
	select {
	case got := <-causes:
		t.Error(got)
	default:
	}
	if len(rec.obs) != 0 {
		t.Errorf("untraced messages were observed: %+v", rec.obs)
	}
}

// TestObserverLateReply: an answer after the caller gave up.
func TestObserverLateReply(t *testing.T) {
	rec := newRecorder()
	s := newTestSystem(t, WithObserver(rec))
	release := make(chan struct{})
	ref, _ := s.Spawn("slow", func() Actor {
		return fn(func(c *Context, msg any) {
			if msg == "slow" {
				<-release
				c.Respond("late")
			}
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Request(ctx, ref, "slow"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Request = %v, want a timeout", err)
	}
	close(release)
	var msg, dead bool
	for !msg || !dead {
		switch o := rec.next(t); o.Kind {
		case ObservedMessage:
			msg = o.Outcome == OutcomeLateReply && !o.Replied.IsZero()
		case ObservedDeadLetter:
			dead = o.Outcome == ReasonLateReply && o.Message == "late"
		}
	}
}
