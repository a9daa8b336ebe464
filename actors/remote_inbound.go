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

// takeInbound unwraps an inbound for Receive: it checks the deadline
// (enforced here, on the receiving node, as well as on receipt), puts the
// bare message in env and makes the inbound the request context. It
// reports false for an expired message, which it dead-letters.
func (p *process) takeInbound(env *envelope, in *inbound) bool {
	if in.expired() {
		p.mb.sink.deadLetter(p.ref(), *env, ReasonExpired)
		env.fail(&TimeoutError{To: p.ref()})
		return false
	}
	env.msg = in.msg
	p.drain.cx.reqCtx = in
	if env.req != nil {
		env.req.ctx = in // invoke takes the request context from the slot
	}
	return true
}

// remoteSender returns the sender of a message from another node, if the
// current message is one.
func (c *Context) remoteSender() Ref {
	if in, ok := c.reqCtx.(*inbound); ok {
		return in.from
	}
	return Ref{}
}
