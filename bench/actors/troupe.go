package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/troupehq/troupe/actors"
)

// troupe adapts Troupe's actors package. Its mailboxes are bounded (1024 by
// default); every actor here uses the Block overflow policy, Troupe's
// default, named explicitly because the throughput workloads are only valid
// if no message is dropped. The logger is replaced with a discarding one, as
// for protoactor, so log output is not part of what is measured.
type troupe struct {
	sys *actors.System
}

func newTroupe() (Engine, error) {
	return &troupe{sys: actors.NewSystem(actors.WithLogger(slog.New(slog.DiscardHandler)))}, nil
}

var troupeBlock = actors.WithOverflow(actors.Block)

type tCounter struct{ tally }

func (c *tCounter) Receive(_ *actors.Context, msg any) {
	if isCounted(msg) {
		c.add()
	}
}

type tEcho struct{}

func (tEcho) Receive(c *actors.Context, msg any) {
	if p, ok := msg.(*probe); ok {
		c.Respond(p)
	}
}

type tIdle struct{}

func (tIdle) Receive(*actors.Context, any) {}

func newTIdle() actors.Actor { return tIdle{} }

func (t *troupe) SpawnCounter(want int, done chan<- struct{}) (Actor, error) {
	c := &tCounter{tally{want: want, done: done}}
	ref, err := t.sys.Spawn("", func() actors.Actor { return c }, troupeBlock)
	return &tActor{t: t, ref: ref, counter: c}, err
}

func (t *troupe) SpawnEcho() (Actor, error) {
	ref, err := t.sys.Spawn("", func() actors.Actor { return tEcho{} }, troupeBlock)
	return &tActor{t: t, ref: ref}, err
}

func (t *troupe) SpawnStop(n int) error {
	for range n {
		ref, err := t.sys.Spawn("", newTIdle, troupeBlock)
		if err != nil {
			return err
		}
		if err := t.sys.Stop(ref); err != nil {
			return err
		}
		<-t.sys.Done(ref)
	}
	return nil
}

func (t *troupe) SpawnIdle(n int) (func() error, error) {
	refs := make([]actors.Ref, 0, n)
	for range n {
		ref, err := t.sys.Spawn("", newTIdle, troupeBlock)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return func() error {
		for _, ref := range refs {
			if err := t.sys.Stop(ref); err != nil {
				return err
			}
		}
		for _, ref := range refs {
			<-t.sys.Done(ref)
		}
		return nil
	}, nil
}

func (t *troupe) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return t.sys.Shutdown(ctx)
}

type tActor struct {
	t       *troupe
	ref     actors.Ref
	counter *tCounter
}

func (a *tActor) Send(msg any) error { return a.t.sys.Send(a.ref, msg) }

func (a *tActor) Request(ctx context.Context, p *probe) (any, error) {
	return a.t.sys.Request(ctx, a.ref, p)
}

// RequestWithin gives the call a context of its own, as a caller inside an
// HTTP route has (its request context carries the route's deadline).
func (a *tActor) RequestWithin(timeout time.Duration, p *probe) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return a.t.sys.Request(ctx, a.ref, p)
}

func (a *tActor) Stop() error {
	if err := a.t.sys.Stop(a.ref); err != nil {
		return err
	}
	select {
	case <-a.t.sys.Done(a.ref):
		return nil
	case <-time.After(requestTimeout):
		return fmt.Errorf("troupe: actor %v did not stop", a.ref)
	}
}

func (a *tActor) Seen() int {
	if a.counter == nil {
		return 0
	}
	return a.counter.seen
}
