package actors

import (
	"context"
	"log/slog"
	"time"
)

// Context is the actor's view of the current message and its handle on the
// System. It is valid only during the Receive call it was passed to: the
// runtime reuses it for the next message, so never keep it.
type Context struct {
	p       *process
	env     *envelope
	reqCtx  context.Context
	replied bool
}

// Self returns the actor's own Ref.
func (c *Context) Self() Ref { return c.p.ref() }

// System returns the System running the actor.
func (c *Context) System() *System { return c.p.sys }

// Sender returns the actor that sent the current message — on this node
// or another — or the zero Ref when it came from outside the System (or
// from the runtime).
func (c *Context) Sender() Ref {
	if c.env.from != nil {
		return c.env.from.ref()
	}
	return c.remoteSender()
}

// Message returns the current message.
func (c *Context) Message() any { return c.env.msg }

// Context returns the context of the Request that sent the current message,
// carrying its deadline and values, or context.Background() otherwise. For
// a message from another node it carries the caller's deadline and trace
// context (so spans started here join the caller's trace), and ends when
// Receive returns.
func (c *Context) Context() context.Context {
	if c.reqCtx != nil {
		return c.reqCtx
	}
	return bg
}

// Respond answers the current message: it completes the waiting Request
// (once; later calls are ignored), or else sends reply to the sending actor.
// A reply nobody waits for any more is a dead letter ("late reply"), and so
// is one to a message with neither ("no sender").
func (c *Context) Respond(reply any) {
	env := c.env
	switch {
	case env.req != nil:
		if c.replied {
			return
		}
		c.replied = true
		delivered := env.req.complete(reply, nil)
		if o := c.p.obs; o != nil {
			o.replied(delivered)
		}
		if !delivered {
			c.p.mb.sink.deadLetter(c.p.ref(), envelope{msg: reply, from: c.p}, ReasonLateReply)
		}
	case env.from != nil:
		_ = c.p.sys.send(c.cause(), c.p, env.from.ref(), reply)
	case c.respondRemote(reply):
	default:
		c.p.mb.sink.deadLetter(c.p.ref(), envelope{msg: reply, from: c.p}, ReasonNoSender)
	}
}

// CanRespond reports whether Respond would reach anyone: the current
// message is a Request still waiting, or came from an actor. An actor that
// computes replies it would otherwise throw away (a WASM component, a
// proxy) checks it to keep fire-and-forget messages from turning into
// "no sender" dead letters.
func (c *Context) CanRespond() bool {
	env := c.env
	if env == nil {
		return false
	}
	if in := c.inbound(); in != nil {
		return in.isRequest() && !c.replied || !in.from.IsZero()
	}
	return env.req != nil && !c.replied || env.from != nil
}

// Forward hands the current message to another actor with its original
// sender and pending Request, so that actor's Respond answers the caller.
func (c *Context) Forward(to Ref) error {
	if to.ep == nil {
		return &NotFoundError{}
	}
	env := *c.env
	if c.replied {
		env.req = nil
	}
	pending := env.req != nil
	if in := c.inbound(); in != nil {
		// Keep the remote sender, deadline, trace and reply subject.
		fwd := in.forwarded()
		if c.replied {
			fwd.replyTo = ""
		}
		env.msg, pending = fwd, fwd.isRequest()
	}
	// The cycle check comes before the delivery: once delivered, the
	// request may be answered at once, and its caller's request object
	// reused by another Request.
	if d := c.p.sys.cycles; d != nil && pending && env.req != nil && d.forwarded(c.p.sys, env.req, to) {
		c.replied = true // failed fast: settled, and not delivered
		return nil
	}
	if err := to.ep.deliver(c.Context(), env); err != nil {
		if err == errDropped {
			return ErrMailboxFull
		}
		return err
	}
	if pending {
		c.replied = true
	}
	return nil
}

// Send sends msg to to with this actor as the sender.
func (c *Context) Send(to Ref, msg any) error { return c.p.sys.send(c.cause(), c.p, to, msg) }

// Request sends msg to to and waits for the reply like System.Request; the
// wait also ends (with ErrStopped) when this actor is stopped. Requesting
// itself returns ErrSelfRequest instead of deadlocking.
func (c *Context) Request(ctx context.Context, to Ref, msg any) (any, error) {
	if to.ep == endpoint(c.p) {
		return nil, ErrSelfRequest
	}
	return c.p.sys.request(ctx, c.p, to, msg)
}

// Spawn starts a child of this actor, supervised by this actor's Strategy.
func (c *Context) Spawn(name string, p Producer, opts ...SpawnOption) (Ref, error) {
	if p == nil {
		return Ref{}, errNilProducer
	}
	return c.p.sys.spawn(c.p, name, p, nil, opts)
}

// SpawnActor starts a child from a value (see System.SpawnActor).
func (c *Context) SpawnActor(name string, a Actor, opts ...SpawnOption) (Ref, error) {
	if a == nil {
		return Ref{}, errNilActor
	}
	return c.p.sys.spawn(c.p, name, nil, a, opts)
}

// Parent returns the parent, or the zero Ref for a top-level actor.
func (c *Context) Parent() Ref {
	if c.p.sup.parent == c.p.sys.root {
		return Ref{}
	}
	return c.p.sup.parent.ref()
}

// Children returns the live children in spawn order.
func (c *Context) Children() []Ref {
	kids := c.p.children()
	refs := make([]Ref, len(kids))
	for i, k := range kids {
		refs[i] = k.ref()
	}
	return refs
}

// Stop stops ref (see System.Stop); stopping Self stops after this message.
func (c *Context) Stop(ref Ref) error { return c.p.sys.Stop(ref) }

// Poison queues an in-band stop for ref (see System.Poison).
func (c *Context) Poison(ref Ref) error { return c.p.sys.Poison(ref) }

// Subscribe subscribes this actor to the subjects matching pattern. The
// subscription ends when the actor stops or restarts, or on cancel.
func (c *Context) Subscribe(pattern string) (cancel func(), err error) {
	return c.p.sys.Subscribe(c.p.ref(), pattern)
}

// After sends msg to this actor once, after d.
func (c *Context) After(d time.Duration, msg any) *Timer { return c.p.newTimer(d, 0, msg) }

// Every sends msg to this actor every d until the Timer is stopped.
func (c *Context) Every(d time.Duration, msg any) *Timer { return c.p.newTimer(d, d, msg) }

// Logger returns the System's logger with an "actor" attribute.
func (c *Context) Logger() *slog.Logger {
	d := &c.p.drain
	if d.logger == nil {
		d.logger = c.p.sys.logger.With("actor", c.p.ref().String())
	}
	return d.logger
}
