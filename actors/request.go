package actors

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

const (
	reqPending uint32 = iota
	reqDone
	reqAbandoned
)

// request is a reply slot. Slots are pooled: one is reused only after its
// caller received the reply, and a caller that gives up (timeout, cancel)
// abandons its slot to the GC instead of returning it, so a late reply can
// never land in somebody else's request. Whoever wins the CAS on state
// (the replier: done; the caller: abandoned) decides.
type request struct {
	state atomic.Uint32
	ch    chan reply
	ctx   context.Context // read by the actor only before it completes the slot
	wait  *waitEdge       // the waiting actor's edge, when cycles are watched

	// grace ends a caller's first, Done-free wait (see awaitQuick); made
	// once per pooled slot, nil in the cluster's control calls, which do not
	// wait that way. fired records that it went off for this use, so the
	// slot is not reused: its wake may still be on its way.
	grace *time.Timer
	fired bool
}

type reply struct {
	v    any
	err  error
	wake bool // not a reply: the grace timer's call to look at the context
}

var requestPool = sync.Pool{New: func() any {
	// Room for the reply and one wake, so neither sender ever blocks.
	r := &request{ch: make(chan reply, 2)}
	r.grace = time.AfterFunc(time.Hour, r.wakeCaller)
	r.grace.Stop()
	return r
}}

// wakeCaller is the grace timer's callback.
func (r *request) wakeCaller() { r.ch <- reply{wake: true} }

// complete delivers the reply unless the caller already gave up.
func (r *request) complete(v any, err error) bool {
	if !r.state.CompareAndSwap(reqPending, reqDone) {
		return false
	}
	r.ch <- reply{v: v, err: err}
	return true
}

// errDropped is enqueue's report that DropNewest discarded the message.
var errDropped = errors.New("actors: message dropped")

// mailboxFullError is a Block-policy timeout: ErrMailboxFull, wrapping the
// context error that ended the wait.
type mailboxFullError struct{ cause error }

func (e *mailboxFullError) Error() string   { return ErrMailboxFull.Error() + ": " + e.cause.Error() }
func (e *mailboxFullError) Unwrap() []error { return []error{ErrMailboxFull, e.cause} }

// request sends msg to to and waits for the reply. from is the requesting
// actor (nil outside the System); its Stop ends the wait.
func (s *System) request(ctx context.Context, from *process, to Ref, msg any) (any, error) {
	if e, ok := to.ep.(*entityRef); ok {
		return e.request(ctx, from, msg)
	}
	return s.requestOnce(ctx, from, to, msg)
}

// requestOnce is one attempt of request.
func (s *System) requestOnce(ctx context.Context, from *process, to Ref, msg any) (any, error) {
	if to.ep == nil {
		return nil, &NotFoundError{}
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err, to)
	}
	r := requestPool.Get().(*request)
	r.state.Store(reqPending)
	r.ctx, r.wait = ctx, nil
	if from != nil && s.cycles != nil {
		return s.cycles.request(ctx, s, from, to, msg, r)
	}
	return s.await(ctx, from, to, msg, r)
}

// await delivers the request r carries and waits for its reply.
func (s *System) await(ctx context.Context, from *process, to Ref, msg any, r *request) (any, error) {
	if err := to.ep.deliver(ctx, envelope{msg: msg, from: from, req: r}); err != nil {
		r.ctx = nil
		requestPool.Put(r)
		if err == errDropped {
			err = ErrMailboxFull
		}
		return nil, err
	}
	var rep reply
	if deadline, ok := ctx.Deadline(); ok {
		rep = r.awaitQuick(deadline)
	} else {
		rep.wake = true
	}
	if rep.wake {
		var abort <-chan struct{}
		if from != nil {
			abort = from.abortChan()
		}
		var err error
		if rep, err = r.awaitEnd(ctx, abort, to); err != nil {
			return nil, err
		}
	}
	if !r.fired {
		r.ctx = nil
		requestPool.Put(r)
	}
	return rep.v, rep.err
}

// replyGrace bounds the first wait of a Request whose context has a
// deadline: that long, or until the deadline if it is sooner, the caller
// waits for the reply alone, without asking the context for its Done
// channel. Most replies come within microseconds, and asking costs a
// context made per call (as a route's is) an allocation, or seven for the
// request timeout stage's context, which registers with net/http's
// per-request context only when asked (BenchmarkDeadlineCtxDone), and the
// caller a select on two channels instead of a receive. The price is that
// a cancellation or a Stop of the waiting actor in the first millisecond
// is seen when it ends; a deadline is kept to the timer's precision. A
// millisecond is also about what the runtime's timers promise when its Ps
// are idle. See docs/rationale.md.
const replyGrace = time.Millisecond

// awaitQuick waits for the reply until the grace or deadline passes, and
// returns it, or a wake if the caller must now watch the context.
func (r *request) awaitQuick(deadline time.Time) reply {
	r.grace.Reset(min(time.Until(deadline), replyGrace))
	rep := <-r.ch
	r.fired = !r.grace.Stop()
	return rep
}

// awaitEnd waits for the reply, ctx's end or abort, skipping a wake. On
// ctx's end or abort it abandons r unless the reply won the race.
func (r *request) awaitEnd(ctx context.Context, abort <-chan struct{}, to Ref) (reply, error) {
	done := ctx.Done()
	if done == nil && abort == nil {
		return r.next(), nil
	}
	for {
		var err error
		select {
		case rep := <-r.ch:
			if !rep.wake {
				return rep, nil
			}
			continue
		case <-done:
			err = ctxError(ctx.Err(), to)
		case <-abort:
			err = ErrStopped
		}
		if r.state.CompareAndSwap(reqPending, reqAbandoned) {
			return reply{}, err
		}
		return r.next(), nil // the reply won the race; take it
	}
}

// next receives the reply, skipping a wake.
func (r *request) next() reply {
	for {
		if rep := <-r.ch; !rep.wake {
			return rep
		}
	}
}

// ctxError types a deadline as *TimeoutError and passes cancellation through.
func ctxError(err error, to Ref) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{To: to}
	}
	return err
}
