package actors

import (
	"context"
	"sync"
	"time"
)

// inbound is a message from another node, queued in a local mailbox in
// place of the bare message when it carries more than the message: a
// sender, a deadline, a trace context, or a reply to send back over NATS.
// The drain loop unwraps it, so Receive sees the message itself; while it
// runs the inbound is the Context's request context, which is how Sender,
// Respond and Context find the remote parts without a field in the
// process (whose size is pinned; see TestProcessLayout).
//
// A request from another node is an inbound with a reply subject, not a
// reply slot (the envelope's req): Respond, and each path that settles a
// request unanswered, reply through the inbound. Keeping remote replies
// out of request.complete keeps that function small enough to inline
// into Respond, which the local request path measured at 5% of its p50.
//
// As a context.Context it is built lazily: Deadline needs nothing,
// Value extracts the trace context on first use, and Done starts a timer
// only when someone waits on it, so a message whose actor never asks
// costs no timer.
type inbound struct {
	msg      any
	from     Ref   // the sending actor, or zero
	deadline int64 // Unix nanoseconds, 0 for none
	trace    []string
	c        *cluster
	replyTo  string // the NATS reply subject of a request
	corr     uint64

	// chain is the waits above the request (cycles_remote.go), decoded
	// from trace once waitsRead; the receiving actor's goroutine only.
	chain     *waitChain
	waitsRead bool

	valuesOnce sync.Once
	values     context.Context // bg plus the extracted trace context
	mu         sync.Mutex
	dctx       context.Context // values plus the deadline
	cancel     context.CancelFunc
}

var _ context.Context = (*inbound)(nil)

// Deadline returns the caller's deadline.
func (in *inbound) Deadline() (time.Time, bool) {
	if in.deadline == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, in.deadline), true
}

// Value looks key up in the caller's trace context (and baggage).
func (in *inbound) Value(key any) any { return in.valueContext().Value(key) }

// Done is closed at the deadline, or once the message was handled.
func (in *inbound) Done() <-chan struct{} { return in.deadlineContext().Done() }

// Err reports why Done is closed.
func (in *inbound) Err() error { return in.deadlineContext().Err() }

func (in *inbound) valueContext() context.Context {
	in.valuesOnce.Do(func() {
		in.values = bg
		if len(in.trace) > 0 {
			in.values = in.c.cfg.Propagator.Extract(bg, &traceCarrier{kv: in.trace})
		}
	})
	return in.values
}

func (in *inbound) deadlineContext() context.Context {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dctx == nil {
		if in.deadline == 0 {
			in.dctx, in.cancel = context.WithCancel(in.valueContext())
		} else {
			in.dctx, in.cancel = context.WithDeadline(in.valueContext(), time.Unix(0, in.deadline))
		}
	}
	return in.dctx
}

// release ends the context once the message was handled, stopping its
// timer if Done made one.
func (in *inbound) release() {
	in.mu.Lock()
	cancel := in.cancel
	in.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// expired reports whether the caller's deadline has passed.
func (in *inbound) expired() bool {
	return in.deadline != 0 && time.Now().UnixNano() > in.deadline
}

// forwarded returns a fresh inbound for the same message, for Forward:
// the original's context ends when its first recipient is done.
func (in *inbound) forwarded() *inbound {
	return &inbound{msg: in.msg, from: in.from, deadline: in.deadline, trace: in.trace, c: in.c, replyTo: in.replyTo, corr: in.corr}
}

// reply sends a request's reply back to the caller's node, unless the
// deadline passed: then nobody waits, and the caller (Respond) makes it a
// dead letter here, on the replier's node.
func (in *inbound) reply(v any, err error) bool {
	if in.expired() {
		return false
	}
	in.c.reply(in.replyTo, in.corr, v, err)
	return true
}

// isRequest reports whether a reply is expected.
func (in *inbound) isRequest() bool { return in.replyTo != "" }

// fail answers an unanswered request with err.
func (in *inbound) fail(err error) {
	if in.isRequest() {
		in.reply(nil, err)
	}
}

// receiveInbound hands a message from another node to Receive: it checks
// the deadline (enforced here, on the receiving node, as well as on
// receipt), puts the bare message in env (inside its trace, when the
// Observer traces it) and makes the inbound the request context, then
// settles a request left unanswered, as invoke does for a local one.
func (p *process) receiveInbound(env *envelope, in *inbound) {
	if in.expired() {
		p.mb.sink.deadLetter(p.ref(), *env, ReasonExpired)
		return
	}
	if t, ok := env.msg.(*traced); ok {
		t.msg = in.msg
	} else {
		env.msg = in.msg
	}
	cx := &p.drain.cx
	cx.reqCtx = in
	p.invoke(env)
	if in.isRequest() && !cx.replied {
		err := ErrNoReply
		if p.stopReq.Load() {
			err = ErrStopped
		}
		in.reply(nil, err)
	}
	in.release()
}

// inbound returns the current message's inbound, if it came from
// another node.
func (c *Context) inbound() *inbound {
	in, _ := c.reqCtx.(*inbound)
	return in
}

// remoteSender returns the sender of a message from another node, if the
// current message is one.
func (c *Context) remoteSender() Ref {
	if in := c.inbound(); in != nil {
		return in.from
	}
	return Ref{}
}

// respondRemote answers a message from another node: the waiting caller
// of a request, else the sending actor. It reports false when the message
// came from neither.
func (c *Context) respondRemote(reply any) bool {
	in := c.inbound()
	switch {
	case in == nil:
		return false
	case in.isRequest():
		if c.replied {
			return true
		}
		c.replied = true
		delivered := in.reply(reply, nil)
		if o := c.p.obs; o != nil {
			o.replied(delivered)
		}
		if !delivered {
			c.p.mb.sink.deadLetter(c.p.ref(), envelope{msg: reply, from: c.p}, ReasonLateReply)
		}
		return true
	case !in.from.IsZero():
		_ = c.p.sys.send(c.cause(), c.p, in.from, reply)
		return true
	}
	return false
}
