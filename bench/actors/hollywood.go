package main

import (
	"context"
	"errors"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// requestTimeout bounds a single round trip for the engines whose request
// API takes a timeout instead of a context; a healthy round trip takes
// microseconds, so only a broken engine ever reaches it.
const requestTimeout = 10 * time.Second

// hollywood adapts anthdm/hollywood v1.0.5. Defaults throughout: its inbox
// is a ring buffer that starts at 1024 slots and grows without bound, so
// senders never block and never lose messages.
type hollywood struct {
	e *actor.Engine
}

func newHollywood() (Engine, error) {
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		return nil, err
	}
	return &hollywood{e: e}, nil
}

type hwCounter struct{ tally }

func (c *hwCounter) Receive(ctx *actor.Context) {
	if isCounted(ctx.Message()) {
		c.add()
	}
}

type hwEcho struct{}

func (hwEcho) Receive(ctx *actor.Context) {
	if p, ok := ctx.Message().(*probe); ok {
		ctx.Respond(p)
	}
}

type hwIdle struct{}

func (hwIdle) Receive(*actor.Context) {}

func (h *hollywood) SpawnCounter(want int, done chan<- struct{}) (Actor, error) {
	c := &hwCounter{tally{want: want, done: done}}
	pid := h.e.Spawn(func() actor.Receiver { return c }, "counter")
	return &hwActor{h: h, pid: pid, counter: c}, nil
}

func (h *hollywood) SpawnEcho() (Actor, error) {
	pid := h.e.Spawn(func() actor.Receiver { return hwEcho{} }, "echo")
	return &hwActor{h: h, pid: pid}, nil
}

func (h *hollywood) SpawnStop(n int) error {
	for range n {
		pid := h.e.Spawn(newHWIdle, "idle")
		<-h.e.Stop(pid).Done()
	}
	return nil
}

func (h *hollywood) SpawnIdle(n int) (func() error, error) {
	pids := make([]*actor.PID, n)
	for i := range pids {
		pids[i] = h.e.Spawn(newHWIdle, "idle")
	}
	return func() error {
		stopped := make([]context.Context, len(pids))
		for i, pid := range pids {
			stopped[i] = h.e.Stop(pid)
		}
		for _, ctx := range stopped {
			<-ctx.Done()
		}
		return nil
	}, nil
}

func newHWIdle() actor.Receiver { return hwIdle{} }

// Shutdown is a no-op: hollywood v1.0.5 has no engine shutdown, and the
// workloads stop every actor they spawn, so nothing is left running.
func (h *hollywood) Shutdown() error { return nil }

type hwActor struct {
	h       *hollywood
	pid     *actor.PID
	counter *hwCounter
}

func (a *hwActor) Send(msg any) error {
	a.h.e.Send(a.pid, msg)
	return nil
}

func (a *hwActor) Request(_ context.Context, p *probe) (any, error) {
	return a.RequestWithin(requestTimeout, p)
}

func (a *hwActor) RequestWithin(timeout time.Duration, p *probe) (any, error) {
	return a.h.e.Request(a.pid, p, timeout).Result()
}

func (a *hwActor) Stop() error {
	select {
	case <-a.h.e.Stop(a.pid).Done():
		return nil
	case <-time.After(requestTimeout):
		return errors.New("hollywood: actor did not stop")
	}
}

func (a *hwActor) Seen() int {
	if a.counter == nil {
		return 0
	}
	return a.counter.seen
}
