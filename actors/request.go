package actors

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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
}

type reply struct {
	v   any
	err error
}

var requestPool = sync.Pool{New: func() any { return &request{ch: make(chan reply, 1)} }}

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
	done := ctx.Done()
	var abort <-chan struct{}
	if from != nil {
		abort = from.abortChan()
	}
	var rep reply
	if done == nil && abort == nil {
		rep = <-r.ch
	} else {
		var err error
		select {
		case rep = <-r.ch:
		case <-done:
			err = ctxError(ctx.Err(), to)
		case <-abort:
			err = ErrStopped
		}
		if err != nil {
			if r.state.CompareAndSwap(reqPending, reqAbandoned) {
				return nil, err
			}
			rep = <-r.ch // the reply won the race; take it
		}
	}
	r.ctx = nil
	requestPool.Put(r)
	return rep.v, rep.err
}

// ctxError types a deadline as *TimeoutError and passes cancellation through.
func ctxError(err error, to Ref) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{To: to}
	}
	return err
}
