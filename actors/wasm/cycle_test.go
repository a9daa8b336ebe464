package wasm

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

// cycleObserver keeps the cycles a System reports.
type cycleObserver struct{ cycles chan actors.Cycle }

func (cycleObserver) Sampling() *actors.Sampling                   { return actors.NewSampling(0, actors.AskNever) }
func (cycleObserver) Sample(context.Context, actors.Ref, any) bool { return false }
func (cycleObserver) Observe(*actors.Observation)                  {}
func (o cycleObserver) Cycle(c actors.Cycle)                       { o.cycles <- c }

// TestRequestCycleThroughAComponent: a component's request is its actor's,
// so a cycle through a WASM component — the component asks a native
// actor, which asks the component back while it waits — is detected and,
// with fail-fast, broken at the innermost request.
func TestRequestCycleThroughAComponent(t *testing.T) {
	obs := cycleObserver{cycles: make(chan actors.Cycle, 4)}
	logger := slog.New(slog.DiscardHandler)
	sys := actors.NewSystem(actors.WithLogger(logger), actors.WithObserver(obs), actors.WithCycleDetection(true))
	rt := rtRuntime(t, RuntimeOptions{System: sys, Logger: logger})
	m := rtComponent(t, t.TempDir(), "relay", rtCompileWAT(t, rtWAT(t, "relay")),
		"message_timeout_ms = 5000\n\n[security]\ncapabilities = [\"actor:request:native\"]")
	c, err := rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	innermost := make(chan error, 1)
	native, err := sys.SpawnActor("native", actorFn(func(ctx *actors.Context, msg any) {
		if _, ok := msg.([]byte); ok {
			_, err := ctx.Request(ctx.Context(), comp, []byte("back"))
			innermost <- err
			ctx.Respond([]byte("done"))
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sys.Request(ctx, comp, []byte("go")); err != nil {
		t.Fatal(err)
	}
	if err := <-innermost; !errors.Is(err, actors.ErrCycle) {
		t.Fatalf("the innermost request got %v, want ErrCycle", err)
	}
	cyc := <-obs.cycles
	if len(cyc.Hops) != 2 || cyc.Hops[0].From != comp || cyc.Hops[0].To != native || cyc.Hops[1].From != native ||
		cyc.Hops[1].To != comp || cyc.Hops[0].Message != "[]uint8" {
		t.Errorf("cycle %s: %+v", cyc, cyc.Hops)
	}
}

// actorFn adapts a function to actors.Actor.
type actorFn func(c *actors.Context, msg any)

func (f actorFn) Receive(c *actors.Context, msg any) { f(c, msg) }
