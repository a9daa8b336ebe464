package actors

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Observer watches the messages of a System, for an inspector: it picks
// the messages to trace and is told how each traced one went, about every
// dead letter and restart, and about request cycles. A System without one
// (the default) pays a nil check per message and nothing else.
//
// Its methods run on the actors' goroutines, concurrently: they must be
// safe for concurrent use, quick, and must never block or call back into
// the System.
type Observer interface {
	// Sampling returns how the System picks the messages to trace: at
	// random at its rate, plus those Sample picks. WithObserver reads it
	// once; the Observer may change its rate at any time. nil traces only
	// what Sample picks, asking about every message.
	Sampling() *Sampling
	// Sample reports whether to trace msg, about to be queued for to,
	// although the rate did not pick it. ctx is what caused the message:
	// the context it was sent with — for a Send or a Respond from inside
	// Receive, the values of the request the actor handles;
	// context.Background() when nothing. Which messages it is asked about
	// is the Sampling's Ask.
	Sample(ctx context.Context, to Ref, msg any) bool
	// Observe is told the end of each traced message, every dead letter
	// and every restart. o is valid only during the call.
	Observe(o *Observation)
	// Cycle is told of each request cycle when it is detected (see
	// WithCycleDetection), and again when it resolves, with Resolved set.
	Cycle(c Cycle)
}

// ObservationKind says what an Observation reports.
type ObservationKind uint8

const (
	// ObservedMessage is one traced message, from its enqueue to the end of
	// its Receive (or to its dead letter).
	ObservedMessage ObservationKind = iota
	// ObservedDeadLetter is a message that did not reach Receive, traced or
	// not; Outcome is its reason (the Reason* constants).
	ObservedDeadLetter
	// ObservedRestart is an actor restarted by its supervisor; Err is why.
	ObservedRestart
)

// Outcomes of a traced message, the Observation.Outcome of an
// ObservedMessage; a traced message that became a dead letter has the
// dead letter's reason instead.
const (
	// OutcomeReplied: Receive answered the Request with Respond.
	OutcomeReplied = "replied"
	// OutcomeLateReply: Receive answered, but the caller had given up.
	OutcomeLateReply = "late reply"
	// OutcomeForwarded: Receive handed the Request on with Forward.
	OutcomeForwarded = "forwarded"
	// OutcomeNoReply: Receive returned without answering the Request.
	OutcomeNoReply = "no reply"
	// OutcomeDone: Receive handled a message sent without a Request.
	OutcomeDone = "done"
	// OutcomeFailed: Receive panicked; Err is the failure.
	OutcomeFailed = "failed"
)

// Observation is what an Observer is told.
type Observation struct {
	Kind ObservationKind
	// Actor is the receiving actor (for a restart, the restarted one).
	Actor Ref
	// From is the sending actor, or the zero Ref from outside the System.
	From Ref
	// Message is the message or, for a late reply, the reply. An Observer
	// records its type, never its value, which may hold anything.
	Message any
	// Context is what caused the message (see Observer.Sample); it carries
	// the trace and the request ID. context.Background() when unknown.
	Context context.Context
	// Request reports whether a caller waited for a reply.
	Request bool
	// When the message was queued, taken by Receive, answered and done;
	// zero when that did not happen. A dead letter or a restart has only
	// Ended: when it happened. Stamps are cheap to take and are converted
	// (Stamp.Time, Stamp.Sub) by whoever reads them.
	Enqueued, Started, Replied, Ended Stamp
	// Outcome is how it ended (the Outcome* constants, or a dead letter's
	// reason).
	Outcome string
	// Err is the failure of a failed message, or why an actor restarted.
	Err error
	// Delay is the backoff a restart waited.
	Delay time.Duration
}

// WithObserver makes o watch the System's messages (see Observer).
func WithObserver(o Observer) Option {
	return func(s *System) {
		if o != nil {
			startClock()
			sm := o.Sampling()
			if sm == nil {
				sm = NewSampling(0, AskEvery)
			}
			s.observe = &observing{o: o, sampling: sm}
		}
	}
}

// Kind returns the actor's kind: its WithKind name, or its Go type; "" for
// the zero Ref.
func (r Ref) Kind() string { return r.kind() }

// observing is a System's Observer and what it needs besides.
type observing struct {
	o        Observer
	sampling *Sampling
}

// observed is what observing keeps per actor, when the System has an
// Observer.
type observed struct {
	// cur is the traced message in Receive; drain goroutine only.
	cur *traced
	// waiting is the Request this actor waits on inside Receive, for the
	// cycle detector; other actors' requests read it.
	waiting atomic.Pointer[waitEdge]
	// parent and above are who waits on the message in Receive, while
	// cycles are watched (noteAbove); its Requests' edges inherit them.
	parent *waitEdge
	above  *waitChain
	// queued is the wait of the sender of the last Request from another
	// node queued for this actor, while cycles are watched (queue): its
	// caller waits on this actor whatever message it is busy with.
	queued atomic.Pointer[waitHop]
}

// traced is a message being traced: it travels through the mailbox in
// place of the message, and Receive gets the message back.
type traced struct {
	msg any
	o   Observation
}

var tracedPool = sync.Pool{New: func() any { return new(traced) }}

// decide makes what it can of the decision to trace the message env
// carries to to before deliver takes the mailbox lock, and reports
// whether it did: a timer tick is never traced (it is the actor's own
// business); a message Sample picks (when the Sampling's Ask says to ask:
// it may walk a context, so never under the lock), or any message at rate
// 1, is wrapped here. Otherwise the rate's countdown decides, under the
// lock (enqueue).
func (ob *observing) decide(ctx context.Context, to *process, env *envelope) bool {
	switch m := env.msg.(type) {
	case *timerTick:
		return true
	case *inbound:
		if ob.sampling.ask != AskNever && ob.o.Sample(m, to.ref(), m.msg) {
			ob.wrap(ctx, to, env)
			return true
		}
	default:
		if ask := ob.sampling.ask; (ask == AskEvery || ask == AskCaused && ctx != bg) && ob.o.Sample(ctx, to.ref(), m) {
			ob.wrap(ctx, to, env)
			return true
		}
	}
	if ob.sampling.gaps.Load().rate >= 1 {
		ob.wrap(ctx, to, env)
		return true
	}
	return false
}

// enqueue wraps the message env carries to to if the rate's countdown
// picks it. It runs under to's mailbox lock, which guards the countdown:
// a message not traced costs a decrement.
func (ob *observing) enqueue(ctx context.Context, to *process, env *envelope) {
	if to.mb.pick(ob.sampling) {
		ob.wrap(ctx, to, env)
	}
}

// wrap makes the message env carries to to a traced one.
func (ob *observing) wrap(ctx context.Context, to *process, env *envelope) {
	msg, from, request := env.msg, env.from.ref(), env.req != nil
	if in, ok := msg.(*inbound); ok {
		// A hop from another node: observed as its message, from its
		// remote sender, in the caller's trace.
		msg, from, request, ctx = in.msg, in.from, in.isRequest(), in
	}
	t := tracedPool.Get().(*traced)
	t.msg = env.msg
	t.o = Observation{
		Kind: ObservedMessage, Actor: to.ref(), From: from, Message: msg,
		Context: ctx, Request: request, Enqueued: stamp(),
	}
	env.msg = t
}

// begin unwraps a traced message for Receive.
func (p *process) begin(env *envelope, t *traced) {
	env.msg = t.msg
	t.o.Started = stamp()
	p.obs.cur = t
}

// replied stamps the answer to the traced message in Receive, if any;
// delivered is false when its caller had given up.
func (o *observed) replied(delivered bool) {
	if t := o.cur; t != nil {
		t.o.Replied = stamp()
		if !delivered {
			t.o.Outcome = OutcomeLateReply
		}
	}
}

// end reports the traced message in Receive, which invoke stamped Ended
// when it returned: c says how Receive left it, err is its failure, if any.
func (p *process) end(c *Context, err error) {
	t := p.obs.cur
	p.obs.cur = nil
	switch {
	case err != nil:
		t.o.Outcome, t.o.Err = OutcomeFailed, err
	case t.o.Outcome != "":
	case !t.o.Request:
		t.o.Outcome = OutcomeDone
	case !t.o.Replied.IsZero():
		t.o.Outcome = OutcomeReplied
	case c.replied:
		t.o.Outcome = OutcomeForwarded
	default:
		t.o.Outcome = OutcomeNoReply
	}
	if t.o.Ended == 0 {
		t.o.Ended = stamp() // Receive panicked
	}
	p.sys.observe.o.Observe(&t.o)
	t.release()
}

func (t *traced) release() {
	*t = traced{}
	tracedPool.Put(t)
}

// deadLetter reports a dead letter and returns the message it carries,
// unwrapped if it was traced.
func (ob *observing) deadLetter(to Ref, env *envelope, reason string) any {
	at := stamp()
	if t, ok := env.msg.(*traced); ok {
		msg := t.msg
		t.o.Outcome, t.o.Ended = reason, at
		t.o.Kind = ObservedDeadLetter
		ob.o.Observe(&t.o)
		t.release()
		return msg
	}
	o := Observation{
		Kind: ObservedDeadLetter, Actor: to, From: env.from.ref(), Message: env.msg,
		Context: bg, Request: env.req != nil, Ended: at, Outcome: reason,
	}
	if in, ok := env.msg.(*inbound); ok {
		o.From, o.Message, o.Request = in.from, in.msg, in.isRequest()
	}
	ob.o.Observe(&o)
	return env.msg
}

// cause is the context a message this actor sends carries for the
// Observer: the values of the request it handles (trace, request ID),
// without its deadline, so a Send's Block wait keeps its own bound. Without
// an Observer, or outside a request, it is context.Background().
func (c *Context) cause() context.Context {
	if c.p.sys.observe == nil || c.reqCtx == nil {
		return bg
	}
	return context.WithoutCancel(c.reqCtx)
}

// restarted reports that p was restarted after delay, because of reason.
func (ob *observing) restarted(p *process, reason error, delay time.Duration) {
	ob.o.Observe(&Observation{
		Kind: ObservedRestart, Actor: p.ref(), Context: bg, Ended: stamp(),
		Outcome: "restarted", Err: reason, Delay: delay,
	})
}
