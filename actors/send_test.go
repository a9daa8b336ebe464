package actors

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type seq struct{ sender, n int }

func TestPerSenderFIFOAndNoConcurrentReceive(t *testing.T) {
	s := newTestSystem(t)
	const senders, per = 8, 2000
	var inflight, overlaps atomic.Int32
	next := make(map[int]int) // only touched inside Receive
	var bad []string
	done := make(chan struct{})
	total := 0
	ref, err := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			if inflight.Add(1) != 1 {
				overlaps.Add(1)
			}
			defer inflight.Add(-1)
			m, ok := msg.(seq)
			if !ok {
				return
			}
			if m.n != next[m.sender] {
				bad = append(bad, "out of order")
			}
			next[m.sender] = m.n + 1
			if total++; total == senders*per {
				close(done)
			}
		})
	}, WithMailboxSize(16)) // small, so senders also block and wake
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for n := range per {
				if err := s.SendContext(context.Background(), ref, seq{i, n}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	wait(t, done, "all messages")
	if overlaps.Load() != 0 {
		t.Errorf("Receive ran concurrently %d times", overlaps.Load())
	}
	if len(bad) != 0 {
		t.Errorf("%d messages out of per-sender order", len(bad))
	}
	_ = s.Stop(ref) // counters are settled per batch; after Done they are final
	wait(t, s.Done(ref), "stop")
	if st := s.Stats(); st.Processed < senders*per || st.Sent < senders*per {
		t.Errorf("Stats = %+v, want at least %d sent and processed", st, senders*per)
	}
}

// gated blocks in Receive on "hold" until gate closes, reporting entry, and
// reports every int it processes.
func gated(entered chan<- struct{}, gate <-chan struct{}, got chan<- int) Producer {
	return func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case string:
				if m == "hold" {
					entered <- struct{}{}
					<-gate
				}
			case int:
				got <- m
			}
		})
	}
}

func TestOverflowPolicies(t *testing.T) {
	tests := []struct {
		policy    OverflowPolicy
		wantErr   error
		reason    string
		dead      int   // the dead-lettered message
		processed []int // what Receive sees after the gate opens
	}{
		{Reject, ErrMailboxFull, ReasonMailboxFull, 3, []int{1, 2}},
		{DropNewest, nil, ReasonDroppedNewest, 3, []int{1, 2}},
		{DropOldest, nil, ReasonDroppedOldest, 1, []int{2, 3}},
		{Block, ErrMailboxFull, ReasonMailboxFull, 3, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			s := newTestSystem(t)
			dls, cancel := s.DeadLetters().Subscribe(8)
			defer cancel()
			entered, gate, got := make(chan struct{}), make(chan struct{}), make(chan int, 8)
			ref, err := s.Spawn("", gated(entered, gate, got), WithMailboxSize(2), WithOverflow(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ref, "hold"); err != nil {
				t.Fatal(err)
			}
			wait(t, entered, "Receive to block")
			for _, m := range []int{1, 2} {
				if err := s.Send(ref, m); err != nil {
					t.Fatalf("Send(%d) into a mailbox with room: %v", m, err)
				}
			}
			ctx, cancelCtx := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancelCtx()
			err = s.SendContext(ctx, ref, 3)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Send into a full mailbox = %v, want %v", err, tt.wantErr)
			}
			if tt.policy == Block && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Block timeout error %v does not wrap the context's", err)
			}
			dl := wait(t, dls, "dead letter")
			if dl.Reason != tt.reason || dl.Message != tt.dead || dl.To != ref {
				t.Errorf("dead letter = %+v, want %d with reason %q", dl, tt.dead, tt.reason)
			}
			close(gate)
			for _, want := range tt.processed {
				if m := wait(t, got, "processed message"); m != want {
					t.Errorf("processed %d, want %d", m, want)
				}
			}
			st := s.Stats()
			if st.Dropped[tt.policy] != 1 || st.DeadLetters[tt.reason] != 1 {
				t.Errorf("Stats: dropped %v, dead letters %v; want one each", st.Dropped, st.DeadLetters)
			}
		})
	}
}

func TestBlockWaitsForSpace(t *testing.T) {
	s := newTestSystem(t)
	entered, gate, got := make(chan struct{}), make(chan struct{}), make(chan int, 8)
	ref, err := s.Spawn("", gated(entered, gate, got), WithMailboxSize(1))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Send(ref, "hold")
	wait(t, entered, "Receive to block")
	_ = s.Send(ref, 1)
	sent := make(chan error)
	go func() { sent <- s.SendContext(context.Background(), ref, 2) }()
	close(gate) // frees the slot; the blocked sender gets in
	if err := wait(t, sent, "blocked Send"); err != nil {
		t.Fatalf("blocked Send = %v", err)
	}
	for _, want := range []int{1, 2} {
		if m := wait(t, got, "message"); m != want {
			t.Errorf("got %d, want %d", m, want)
		}
	}
}

func TestRequestTimeoutAndLateReply(t *testing.T) {
	s := newTestSystem(t)
	dls, cancel := s.DeadLetters().Subscribe(8)
	defer cancel()
	gate := make(chan struct{})
	entered := make(chan struct{})
	ref, err := s.Spawn("slow", func() Actor {
		return fn(func(c *Context, msg any) {
			if msg == "slow" {
				close(entered)
				<-gate
				c.Respond("late")
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancelCtx := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelCtx()
	_, err = s.Request(ctx, ref, "slow")
	var te *TimeoutError
	if !errors.As(err, &te) || te.To != ref || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request past its deadline = %v, want *TimeoutError matching ErrTimeout and DeadlineExceeded", err)
	}
	wait(t, entered, "Receive")
	close(gate)
	dl := wait(t, dls, "late reply")
	if dl.Reason != ReasonLateReply || dl.Message != "late" || dl.From != ref {
		t.Errorf("dead letter = %+v, want the late reply", dl)
	}
}

func TestRequestErrors(t *testing.T) {
	s := newTestSystem(t)
	silent, err := s.Spawn("silent", func() Actor { return fn(func(*Context, any) {}) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request(context.Background(), silent, "hi"); !errors.Is(err, ErrNoReply) {
		t.Errorf("unanswered Request = %v, want ErrNoReply", err)
	}
	if _, err := s.Request(context.Background(), Ref{}, "hi"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Request to the zero Ref = %v, want ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Request(ctx, silent, "hi"); !errors.Is(err, context.Canceled) {
		t.Errorf("Request with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestStopDuringInFlightRequest(t *testing.T) {
	s := newTestSystem(t)
	entered, gate := make(chan struct{}), make(chan struct{})
	ref, err := s.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			if msg == "hold" {
				close(entered)
				<-gate
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	inflight := make(chan error, 1)
	go func() { _, err := s.Request(context.Background(), ref, "hold"); inflight <- err }()
	wait(t, entered, "Receive")
	queuedErr := make(chan error, 1)
	go func() { _, err := s.Request(context.Background(), ref, "queued"); queuedErr <- err }()
	for queued(ref) < 1 {
		runtime.Gosched()
	}
	if err := s.Stop(ref); err != nil {
		t.Fatal(err)
	}
	// The queued request fails while the actor is still stuck in Receive.
	if err := wait(t, queuedErr, "queued request"); !errors.Is(err, ErrStopped) {
		t.Errorf("queued Request after Stop = %v, want ErrStopped", err)
	}
	close(gate)
	if err := wait(t, inflight, "in-flight request"); !errors.Is(err, ErrStopped) {
		t.Errorf("in-flight Request after Stop = %v, want ErrStopped", err)
	}
	wait(t, s.Done(ref), "actor to stop")
	if err := s.Send(ref, "late"); !errors.Is(err, ErrStopped) {
		t.Errorf("Send to a stopped actor = %v, want ErrStopped", err)
	}
}
