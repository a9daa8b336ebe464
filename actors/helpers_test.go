package actors

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fn adapts a function to Actor.
type fn func(c *Context, msg any)

func (f fn) Receive(c *Context, msg any) { f(c, msg) }

// quiet discards the failure logs the tests provoke on purpose.
var quiet = slog.New(slog.DiscardHandler)

// newTestSystem returns a System shut down (and checked) when t ends.
func newTestSystem(t testing.TB, opts ...Option) *System {
	t.Helper()
	s := NewSystem(append([]Option{WithLogger(quiet)}, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// wait fails the test if ch is not closed (or does not deliver) in time.
// The bound only turns a hang into a failure; no test asserts on timing.
func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// echoer replies with the message.
func echoer() Actor {
	return fn(func(c *Context, msg any) {
		switch msg.(type) {
		case Started, Stopping, Stopped, Restarting:
			return
		}
		c.Respond(msg)
	})
}

// proc returns the local process ref points at.
func proc(ref Ref) *process { return ref.ep.(*process) }

// queued returns how many messages wait in ref's mailbox.
func queued(ref Ref) int { return proc(ref).mb.depth() }
