package actors

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// batchSize caps how many messages the drain goroutine takes per lock
// acquisition. Larger batches amortise the lock; the cap bounds how far the
// actor can run ahead of a Stop or a system message, which are only checked
// between messages anyway.
const batchSize = 256

var batchPool = sync.Pool{New: func() any { return new([batchSize]envelope) }}

// closedChan is returned by Done for actors that have already terminated.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// process is one actor: its mailbox, its place in the supervision tree and
// the state its drain goroutine owns. It has no goroutine while idle.
type process struct {
	sys      *System
	id       uint64
	name     string
	kind     string
	parent   *process // the System's root for top-level actors; nil for the root
	capacity int
	policy   OverflowPolicy
	strategy Strategy // how this actor supervises its children

	// interrupt is set when a system message is queued, so the drain loop
	// can notice between messages without taking the lock.
	interrupt atomic.Bool
	// stopReq is set once a hard Stop was requested.
	stopReq atomic.Bool

	mu          sync.Mutex
	q           ring
	sysq        []sysMsg
	running     bool // a drain goroutine exists (or is about to)
	closed      bool // user messages are refused
	terminating bool
	terminated  bool
	enqueued    uint64        // accepted since the last batch (Stats.Sent)
	notFull     chan struct{} // closed when space frees up; Block waiters
	abort       chan struct{} // closed on Stop: ends this actor's own Requests
	done        chan struct{} // closed on termination; lazily made by Done
	backoff     *time.Timer   // pending delayed restart
	children    map[uint64]*process
	timers      map[*Timer]struct{}
	subs        []string

	// Owned by the drain goroutine.
	actor     Actor
	producer  Producer
	suspended bool // failed, waiting for its restart: user messages wait
	ended     bool // terminate ran: the drain goroutine must exit
	// wake is non-nil for an actor spawned WithDedicatedGoroutine: senders
	// wake its parked drain goroutine instead of starting one.
	wake      chan struct{}
	noTiming  bool // WithoutProcessingMetrics
	restarts  []time.Time
	failErr   error
	failStack []byte
	logger    *slog.Logger
	cx        Context
}

type sysKind uint8

const (
	sysStart sysKind = iota
	sysStop
	sysRestart
	sysFail // a child escalated: this actor fails in turn
)

type sysMsg struct {
	kind  sysKind
	err   error
	delay time.Duration // the backoff a restart waited, for ActorRestarted
}

// poisonPill is the in-band stop queued by Poison.
type poisonPill struct{}

func (p *process) ref() Ref {
	if p == nil {
		return Ref{}
	}
	return Ref{p: p, id: p.id}
}

// enqueue delivers a user message, applying the overflow policy. ctx bounds
// a Block wait; without a deadline Config.BlockTimeout does. It returns errDropped when DropNewest discarded
// the message, which Send reports as success and Request as ErrMailboxFull.
func (p *process) enqueue(ctx context.Context, env envelope) error {
	p.mu.Lock()
	var timer *time.Timer
	for !p.closed && p.q.n >= p.capacity {
		switch p.policy {
		case Reject:
			p.mu.Unlock()
			p.sys.drop(Reject, p, &env, ReasonMailboxFull)
			return ErrMailboxFull
		case DropNewest:
			p.mu.Unlock()
			p.sys.drop(DropNewest, p, &env, ReasonDroppedNewest)
			return errDropped
		case DropOldest:
			old := p.q.pop()
			p.push(env) // releases p.mu
			p.sys.drop(DropOldest, p, &old, ReasonDroppedOldest)
			old.fail(ErrMailboxFull)
			return nil
		default:
			if err := p.waitForSpace(ctx, &timer); err != nil {
				if timer != nil {
					timer.Stop()
				}
				p.sys.drop(Block, p, &env, ReasonMailboxFull)
				return &mailboxFullError{cause: err}
			}
		}
	}
	if timer != nil {
		timer.Stop()
	}
	if p.closed {
		p.mu.Unlock()
		p.sys.deadLetter(p, &env, ReasonStopped)
		return ErrStopped
	}
	p.push(env)
	return nil
}

// push queues env and starts a drain goroutine if none runs. It is called
// with p.mu held and releases it.
func (p *process) push(env envelope) {
	p.q.push(env)
	p.enqueued++
	if p.running {
		p.mu.Unlock()
		return
	}
	p.running = true
	p.mu.Unlock()
	p.startDrain()
}

// waitForSpace blocks (with p.mu released) until the consumer frees space,
// ctx ends, or the Block timeout passes. It returns with p.mu held, or with
// the cause of giving up.
func (p *process) waitForSpace(ctx context.Context, timer **time.Timer) error {
	if p.notFull == nil {
		p.notFull = make(chan struct{})
	}
	ch := p.notFull
	p.mu.Unlock()
	done := ctx.Done()
	_, hasDeadline := ctx.Deadline()
	var expired <-chan time.Time
	if !hasDeadline {
		if *timer == nil {
			*timer = time.NewTimer(p.sys.cfg.BlockTimeout)
		}
		expired = (*timer).C
	}
	var err error
	select {
	case <-ch:
	case <-done:
		err = ctx.Err()
	case <-expired:
		err = context.DeadlineExceeded
	}
	if err == nil {
		p.mu.Lock()
	}
	return err
}

// poison queues the in-band stop; it ignores the bound so it always lands.
func (p *process) poison() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrStopped
	}
	p.push(envelope{msg: poisonPill{}})
	return nil
}

// enqueueSys queues a system message, which the drain loop handles before
// any further user message (and even while the actor is suspended).
func (p *process) enqueueSys(m sysMsg) {
	p.mu.Lock()
	if p.terminated {
		p.mu.Unlock()
		return
	}
	p.sysq = append(p.sysq, m)
	p.interrupt.Store(true)
	if p.running {
		p.mu.Unlock()
		return
	}
	p.running = true
	p.mu.Unlock()
	p.startDrain()
}

// startDrain starts the drain goroutine for work just queued; running was
// set under p.mu, so exactly one caller gets here per idle period.
func (p *process) startDrain() {
	if p.wake != nil {
		p.wake <- struct{}{} // capacity 1, and only one wake per idle period
		return
	}
	go p.run()
}

// parked is the drain goroutine of an actor spawned WithDedicatedGoroutine:
// it sleeps between bursts of work instead of exiting, so the stack it grew
// once (a WASM call needs tens of KiB) is kept rather than grown again for
// every burst.
func (p *process) parked() {
	for range p.wake {
		p.run()
		if p.ended {
			return
		}
	}
}

// run is the drain goroutine: it exists only while the actor has work, and
// exits when the mailbox is empty (or the actor is suspended), clearing
// running under the same lock senders take, so no wake-up is lost.
func (p *process) run() {
	var batch *[batchSize]envelope
	defer func() {
		if batch != nil {
			batchPool.Put(batch)
		}
	}()
	for {
		p.mu.Lock()
		if len(p.sysq) > 0 {
			msgs := p.sysq
			p.sysq = nil
			p.interrupt.Store(false)
			p.mu.Unlock()
			for _, m := range msgs {
				p.handleSys(m)
				if p.ended {
					return
				}
			}
			continue
		}
		if p.suspended || p.q.n == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		if batch == nil {
			batch = batchPool.Get().(*[batchSize]envelope)
		}
		k := p.q.take(batch[:])
		if p.notFull != nil {
			close(p.notFull)
			p.notFull = nil
		}
		sent := p.enqueued
		p.enqueued = 0
		p.mu.Unlock()
		p.sys.sent.Add(sent)
		p.processBatch(batch[:k])
		if p.ended {
			return
		}
	}
}

func (p *process) handleSys(m sysMsg) {
	switch m.kind {
	case sysStart:
		p.start()
	case sysStop:
		p.terminate(nil, false)
	case sysRestart:
		p.restart(m.err, m.delay)
	case sysFail:
		p.fail(m.err, nil)
	}
}

// processBatch runs Receive for each envelope. On a failure, a Stop or a
// system message it puts the unprocessed rest back at the mailbox head and
// returns, so the loop can react before the next message.
func (p *process) processBatch(batch []envelope) {
	next, panicked := p.receiveFrom(batch, 0)
	p.sys.processed.Add(uint64(next))
	switch {
	case panicked:
		// receiveFrom stopped inside batch[next]; settle it like invoke would.
		env := &batch[next]
		if env.req != nil && !p.cx.replied {
			env.req.complete(nil, p.failErr)
		}
		p.cx.env, p.cx.reqCtx = nil, nil
		p.sys.processed.Add(1)
		p.putBack(batch[next+1:])
		clear(batch[:next+1])
		p.fail(p.failErr, p.failStack)
	case next == len(batch):
	default:
		// Stopped early at batch[next]: a poison pill or an interrupt.
		if _, ok := batch[next].msg.(poisonPill); ok {
			p.putBack(batch[next+1:])
			clear(batch[:next+1])
			p.terminate(nil, true)
			return
		}
		p.putBack(batch[next:])
	}
}

// receiveFrom delivers batch[i:] until the end, a poison pill, an interrupt
// or a panic, and returns where it stopped. One deferred recover covers the
// whole run, so the per-message cost of panic containment is nil.
func (p *process) receiveFrom(batch []envelope, i int) (next int, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			p.failErr, p.failStack = &PanicError{Value: r}, debug.Stack()
			next, panicked = i, true
		}
	}()
	for ; i < len(batch); i++ {
		env := &batch[i]
		switch m := env.msg.(type) {
		case poisonPill:
			return i, false
		case *timerTick:
			if !m.take() {
				*env = envelope{}
				continue
			}
			env.msg = m.msg
		}
		p.invoke(env)
		*env = envelope{}
		if p.interrupt.Load() {
			return i + 1, false
		}
	}
	return i, false
}

func (p *process) putBack(rest []envelope) {
	if len(rest) == 0 {
		return
	}
	p.mu.Lock()
	p.q.pushFront(rest)
	p.mu.Unlock()
	clear(rest)
}

// invoke delivers one user message and settles its Request: a request not
// answered (or forwarded) when Receive returns gets an error at once, so a
// caller never waits for a reply that cannot come. A panic unwinds through
// invoke to receiveFrom, which settles the request instead.
func (p *process) invoke(env *envelope) {
	c := &p.cx
	c.env, c.replied = env, false
	if env.req != nil {
		c.reqCtx = env.req.ctx
	}
	if m := p.sys.metrics; m != nil && !p.noTiming {
		start := time.Now()
		p.actor.Receive(c, env.msg)
		m.Processed(bg, p.kind, time.Since(start))
	} else {
		p.actor.Receive(c, env.msg)
	}
	if env.req != nil && !c.replied {
		err := ErrNoReply
		if p.stopReq.Load() {
			err = ErrStopped
		}
		env.req.complete(nil, err)
	}
	c.env, c.reqCtx = nil, nil
}

// call runs Receive for a lifecycle message, turning a panic into a
// recorded failure.
func (p *process) call(msg any) (failed bool) {
	defer func() {
		if r := recover(); r != nil {
			p.failErr, p.failStack, failed = &PanicError{Value: r}, debug.Stack(), true
		}
	}()
	p.actor.Receive(&p.cx, msg)
	return false
}

// lifecycle delivers a runtime message outside any request.
func (p *process) lifecycle(msg any) bool {
	env := envelope{msg: msg}
	p.cx.env, p.cx.replied = &env, false
	failed := p.call(msg)
	p.cx.env = nil
	return failed
}

// fail settles the Request of an envelope that will never reach Receive.
func (e *envelope) fail(err error) {
	if e.req != nil {
		e.req.complete(nil, err)
	}
}
