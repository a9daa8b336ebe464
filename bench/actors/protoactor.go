package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// protoactor adapts asynkron/protoactor-go. Defaults throughout: its
// default mailbox is unbounded, so senders never block and never lose
// messages. Only its logger is replaced, with a discarding one, so that log
// output is not part of what is measured.
type protoactor struct {
	sys  *actor.ActorSystem
	root *actor.RootContext
}

func newProtoactor() (Engine, error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	return &protoactor{sys: sys, root: sys.Root}, nil
}

type paCounter struct{ tally }

func (c *paCounter) Receive(ctx actor.Context) {
	if isCounted(ctx.Message()) {
		c.add()
	}
}

type paEcho struct{}

func (paEcho) Receive(ctx actor.Context) {
	if p, ok := ctx.Message().(*probe); ok {
		ctx.Respond(p)
	}
}

type paIdle struct{}

func (paIdle) Receive(actor.Context) {}

var paIdleProps = actor.PropsFromProducer(func() actor.Actor { return paIdle{} })

func (p *protoactor) SpawnCounter(want int, done chan<- struct{}) (Actor, error) {
	c := &paCounter{tally{want: want, done: done}}
	pid := p.root.Spawn(actor.PropsFromProducer(func() actor.Actor { return c }))
	return &paActor{p: p, pid: pid, counter: c}, nil
}

func (p *protoactor) SpawnEcho() (Actor, error) {
	pid := p.root.Spawn(actor.PropsFromProducer(func() actor.Actor { return paEcho{} }))
	return &paActor{p: p, pid: pid}, nil
}

func (p *protoactor) SpawnStop(n int) error {
	for range n {
		if err := p.root.StopFuture(p.root.Spawn(paIdleProps)).Wait(); err != nil {
			return err
		}
	}
	return nil
}

func (p *protoactor) SpawnIdle(n int) (func() error, error) {
	pids := make([]*actor.PID, n)
	for i := range pids {
		pids[i] = p.root.Spawn(paIdleProps)
	}
	return func() error {
		stopped := make([]*actor.Future, len(pids))
		for i, pid := range pids {
			stopped[i] = p.root.StopFuture(pid)
		}
		for _, f := range stopped {
			if err := f.Wait(); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (p *protoactor) Shutdown() error {
	p.sys.Shutdown()
	return nil
}

type paActor struct {
	p       *protoactor
	pid     *actor.PID
	counter *paCounter
}

func (a *paActor) Send(msg any) error {
	a.p.root.Send(a.pid, msg)
	return nil
}

func (a *paActor) Request(_ context.Context, pr *probe) (any, error) {
	return a.RequestWithin(requestTimeout, pr)
}

func (a *paActor) RequestWithin(timeout time.Duration, pr *probe) (any, error) {
	return a.p.root.RequestFuture(a.pid, pr, timeout).Result()
}

func (a *paActor) Stop() error {
	return a.p.root.StopFuture(a.pid).Wait()
}

func (a *paActor) Seen() int {
	if a.counter == nil {
		return 0
	}
	return a.counter.seen
}
