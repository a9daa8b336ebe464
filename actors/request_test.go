package actors

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRequestAllocations pins what Request itself allocates, apart from the
// caller's context: at most the start of the actor's drain goroutine, with
// no deadline and with a fresh deadline per call alike. In particular a
// reply that comes within the grace does not make the context build its Done
// channel (which cost one allocation here, and seven under the request
// timeout stage's context). A timer, a goroutine or a registration with the
// context per call would show here too. The context's own making (context.WithTimeout: four
// allocations in Go 1.26) is measured alone and subtracted, so the pin holds
// whatever the standard library's count.
func TestRequestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not the program's under the race detector (sync.Pool drops at random)")
	}
	s := newTestSystem(t)
	ref, err := s.Spawn("", echoer)
	if err != nil {
		t.Fatal(err)
	}
	request := func(ctx context.Context) {
		if _, err := s.Request(ctx, ref, 1); err != nil {
			t.Fatal(err)
		}
	}
	allocs := func(f func()) float64 {
		f() // warm the pools
		return testing.AllocsPerRun(500, f)
	}

	background := allocs(func() { request(context.Background()) })
	if background > 1 {
		t.Errorf("Request without a deadline allocates %v times, want at most 1 (the drain's start)", background)
	}
	making := allocs(func() {
		_, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cancel()
	})
	perCall := allocs(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		request(ctx)
		cancel()
	})
	if own := perCall - making; own > 1 {
		t.Errorf("Request with a fresh deadline allocates %v times besides the context's own %v, want at most 1 (the drain's start)", own, making)
	}
}

// holder spawns an actor that, for "hold", reports on entered that it is in
// Receive, waits for gate, then replies "late"; for anything else it
// replies "fast".
func holder(t *testing.T, s *System) (ref Ref, entered chan struct{}, gate chan struct{}) {
	t.Helper()
	entered, gate = make(chan struct{}, 1), make(chan struct{})
	ref, err := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			switch msg {
			case "hold":
				entered <- struct{}{}
				<-gate
				c.Respond("late")
			case "fast":
				c.Respond("fast")
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ref, entered, gate
}

// TestRequestCancelledUnderDeadline: a context with a deadline that is
// cancelled before it passes ends the wait with context.Canceled, whether
// the cancel comes within the first, Done-free wait (replyGrace) or after
// it, and the reply that comes later is a dead letter.
func TestRequestCancelledUnderDeadline(t *testing.T) {
	for _, tt := range []struct {
		name  string
		delay time.Duration // between the actor taking the request and the cancel
	}{{"within the grace", 0}, {"after the grace", 20 * replyGrace}} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSystem(t)
			dls, stop := s.DeadLetters().Subscribe(8)
			defer stop()
			ref, entered, gate := holder(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			res := make(chan error, 1)
			go func() { _, err := s.Request(ctx, ref, "hold"); res <- err }()
			wait(t, entered, "Receive")
			time.Sleep(tt.delay)
			cancel()
			if err := wait(t, res, "the cancelled Request"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Request cancelled under a deadline = %v, want context.Canceled", err)
			}
			close(gate)
			if dl := wait(t, dls, "late reply"); dl.Reason != ReasonLateReply || dl.Message != "late" {
				t.Errorf("dead letter = %+v, want the late reply", dl)
			}
		})
	}
}

// TestRequestDeadlineWithinGrace: a deadline sooner than replyGrace ends the
// wait as a *TimeoutError, not at the grace's end with a wrong error.
func TestRequestDeadlineWithinGrace(t *testing.T) {
	s := newTestSystem(t)
	ref, entered, gate := holder(t, s)
	defer close(gate)
	ctx, cancel := context.WithTimeout(context.Background(), replyGrace/4)
	defer cancel()
	_, err := s.Request(ctx, ref, "hold")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request past a deadline within the grace = %v, want a *TimeoutError", err)
	}
	wait(t, entered, "Receive")
}

// TestRequestReplyAfterGrace: a reply slower than replyGrace is the reply,
// not the grace timer's wake, and the requests after it, which may find the
// pool without that slot, get their own replies.
func TestRequestReplyAfterGrace(t *testing.T) {
	s := newTestSystem(t)
	ref, entered, gate := holder(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	res := make(chan any, 1)
	go func() {
		v, err := s.Request(ctx, ref, "hold")
		if err != nil {
			v = err
		}
		res <- v
	}()
	wait(t, entered, "Receive")
	time.Sleep(20 * replyGrace)
	close(gate)
	if v := wait(t, res, "the slow reply"); v != "late" {
		t.Fatalf("slow Request = %v, want the reply \"late\"", v)
	}
	for range 100 {
		if v, err := s.Request(ctx, ref, "fast"); err != nil || v != "fast" {
			t.Fatalf("Request after a slow one = %v, %v; want \"fast\"", v, err)
		}
	}
}

// TestRequestFromStoppedActorUnderDeadline: an actor waiting in Request
// under a context with a deadline is released with ErrStopped when it is
// stopped, within the first wait or after it.
func TestRequestFromStoppedActorUnderDeadline(t *testing.T) {
	s := newTestSystem(t)
	target, entered, gate := holder(t, s)
	defer close(gate)
	res := make(chan error, 1)
	asker, err := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			if msg != "ask" {
				return
			}
			ctx, cancel := context.WithTimeout(c.Context(), time.Hour)
			defer cancel()
			_, err := c.Request(ctx, target, "hold")
			res <- err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(asker, "ask"); err != nil {
		t.Fatal(err)
	}
	wait(t, entered, "the target's Receive")
	time.Sleep(5 * replyGrace)
	if err := s.Stop(asker); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, res, "the stopped actor's Request"); !errors.Is(err, ErrStopped) {
		t.Errorf("Request of a stopped actor = %v, want ErrStopped", err)
	}
	wait(t, s.Done(asker), "the asker to stop")
}
