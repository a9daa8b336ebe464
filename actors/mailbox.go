package actors

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// envelope is one queued message. It is stored by value in the mailbox ring,
// so a Send allocates nothing beyond boxing the message into an interface.
type envelope struct {
	msg  any
	from *process // the sending actor, nil from outside the System
	req  *request // the waiting caller of Request, nil for Send
}

// lost reports e to report (the sink's deadLetter or dropped) and fails
// its Request with err: e will never reach Receive. The failure is taken
// from e before the report, since an Observer's report releases a traced
// wrapper to its pool, where another enqueue may reuse it at once.
func (e envelope) lost(report func(envelope), err error) {
	bare := e
	if t, ok := bare.msg.(*traced); ok {
		bare.msg = t.msg
	}
	report(e)
	bare.fail(err)
}

// fail settles the Request of an envelope that will never reach Receive,
// a local one or one from another node.
func (e *envelope) fail(err error) {
	if e.req != nil {
		e.req.complete(nil, err)
		return
	}
	if in, ok := e.msg.(*inbound); ok {
		in.fail(err)
	}
}

// poisonPill is the in-band stop queued by Poison.
type poisonPill struct{}

// sysKind is the kind of a system message.
type sysKind uint8

const (
	sysStart sysKind = iota
	sysStop
	sysRestart
	sysFail // a child escalated: this actor fails in turn
)

// sysMsg is a system message: a lifecycle transition the drain goroutine
// carries out before any further user message.
type sysMsg struct {
	kind  sysKind
	err   error
	delay time.Duration // the backoff a restart waited, for ActorRestarted
}

// mailbox is an actor's two queues — user messages, bounded under an
// overflow policy, and system messages, which go first — and the flag that
// says whether a drain goroutine is running. Queuing work for an idle actor
// starts its drain goroutine, exactly once per idle period because running
// is flipped under the same lock. Messages it refuses or loses are reported
// to sink.
type mailbox struct {
	// interrupt is set when a system message is queued, so the drain loop
	// can notice between messages without taking the lock.
	interrupt atomic.Bool
	// Set at spawn, then only read. policy sits in interrupt's padding, so
	// the mailbox is 136 bytes and the process keeps to 448 (layout_test.go).
	policy       OverflowPolicy
	sink         sink
	blockTimeout time.Duration // a Block wait without a deadline
	capacity     int

	mu      sync.Mutex
	q       ring
	sysq    []sysMsg
	running bool // a drain goroutine exists (or is about to)
	closed  bool // user messages are refused
	sealed  bool // the actor terminated: system messages are refused too
	// The Observer's sampling countdown (Sampling, mailbox.pick): the
	// gen of the rate it was drawn at and the messages still to let pass.
	// They fill the bools' padding, so the mailbox keeps to 136 bytes.
	sampleGen  uint8
	sampleSkip uint32
	enqueued   uint64        // accepted since the last batch (Stats.Sent)
	notFull    chan struct{} // closed when space frees up; Block waiters
}

// deliver queues a user message in p's mailbox, applying the overflow
// policy, and starts p's drain goroutine if it was idle: the endpoint's
// deliver for a local actor. ctx bounds a Block wait; without a deadline
// blockTimeout does. It returns errDropped when DropNewest discarded the
// message, which Send reports as success and Request as ErrMailboxFull.
// It is the mailbox's put, written as the endpoint method itself because a
// wrapper around it cost Send 1→1 5% of its time.
func (p *process) deliver(ctx context.Context, env envelope) error {
	ob := p.sys.observe
	decided := ob == nil || ob.decide(ctx, p, &env)
	m := &p.mb
	m.mu.Lock()
	if !decided {
		ob.enqueue(ctx, p, &env)
	}
	var timer *time.Timer
	for !m.closed && m.q.n >= m.capacity {
		switch m.policy {
		case Reject, DropNewest:
			m.mu.Unlock()
			return m.refuse(p, env)
		case DropOldest:
			old := m.q.pop()
			m.push(p, env) // releases m.mu
			old.lost(func(e envelope) { m.sink.dropped(p.ref(), e, DropOldest, ReasonDroppedOldest) }, ErrMailboxFull)
			return nil
		}
		if err := m.waitForSpace(ctx, &timer); err != nil {
			stopTimer(timer)
			m.sink.dropped(p.ref(), env, Block, ReasonMailboxFull)
			return &mailboxFullError{cause: err}
		}
	}
	stopTimer(timer)
	if m.closed {
		m.mu.Unlock()
		m.sink.deadLetter(p.ref(), env, ReasonStopped)
		return ErrStopped
	}
	m.push(p, env)
	return nil
}

// refuse applies Reject or DropNewest to env arriving at a full mailbox.
func (m *mailbox) refuse(to *process, env envelope) error {
	if m.policy == Reject {
		m.sink.dropped(to.ref(), env, Reject, ReasonMailboxFull)
		return ErrMailboxFull
	}
	m.sink.dropped(to.ref(), env, DropNewest, ReasonDroppedNewest)
	return errDropped
}

// push queues env and starts to's drain goroutine if none runs. It is
// called with m.mu held and releases it.
func (m *mailbox) push(to *process, env envelope) {
	m.q.push(env)
	m.enqueued++
	if m.running {
		m.mu.Unlock()
		return
	}
	m.running = true
	m.mu.Unlock()
	to.startDrain()
}

// stopTimer stops the Block timer, if one was made.
func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// waitForSpace blocks (with m.mu released) until the consumer frees space,
// ctx ends, or the Block timeout passes. It returns with m.mu held, or with
// the cause of giving up.
func (m *mailbox) waitForSpace(ctx context.Context, timer **time.Timer) error {
	if m.notFull == nil {
		m.notFull = make(chan struct{})
	}
	ch := m.notFull
	m.mu.Unlock()
	var expired <-chan time.Time
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		if *timer == nil {
			*timer = time.NewTimer(m.blockTimeout)
		}
		expired = (*timer).C
	}
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = context.DeadlineExceeded
	}
	if err == nil {
		m.mu.Lock()
	}
	return err
}

// putPoison queues the in-band stop; it ignores the bound so it always
// lands.
func (m *mailbox) putPoison(to *process) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrStopped
	}
	m.push(to, envelope{msg: poisonPill{}})
	return nil
}

// putSys queues a system message for to, which the drain loop handles
// before any further user message (and even while the actor is suspended),
// and starts to's drain goroutine if it was idle. A sealed mailbox drops
// it: the actor is gone.
func (m *mailbox) putSys(to *process, s sysMsg) {
	m.mu.Lock()
	if m.sealed {
		m.mu.Unlock()
		return
	}
	m.sysq = append(m.sysq, s)
	m.interrupt.Store(true)
	if m.running {
		m.mu.Unlock()
		return
	}
	m.running = true
	m.mu.Unlock()
	to.startDrain()
}

// batchSize caps how many messages the drain goroutine takes per lock
// acquisition. Larger batches amortise the lock; the cap bounds how far the
// actor can run ahead of a Stop or a system message, which are only checked
// between messages anyway.
const batchSize = 256

var batchPool = sync.Pool{New: func() any { return new([batchSize]envelope) }}

// next is the drain goroutine's step: the queued system messages if any,
// else up to batchSize user messages into *batch (taken from the pool on
// first use), unless suspended. With neither it clears running and reports
// idle, under the lock senders take, so no wake-up is lost. sent is how
// many messages were accepted since the last step, for Stats.Sent.
func (m *mailbox) next(batch **[batchSize]envelope, suspended bool) (sys []sysMsg, k int, sent uint64, idle bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sysq) > 0 {
		sys, m.sysq = m.sysq, nil
		m.interrupt.Store(false)
		return sys, 0, 0, false
	}
	if suspended || m.q.n == 0 {
		m.running = false
		return nil, 0, 0, true
	}
	if *batch == nil {
		*batch = batchPool.Get().(*[batchSize]envelope)
	}
	k = m.q.take((*batch)[:])
	m.wakeBlocked()
	sent, m.enqueued = m.enqueued, 0
	return nil, k, sent, false
}

// wakeBlocked releases Block-policy senders waiting for space; called with
// m.mu held.
func (m *mailbox) wakeBlocked() {
	if m.notFull != nil {
		close(m.notFull)
		m.notFull = nil
	}
}

// putBack returns the unprocessed rest of a batch to the head of the queue,
// ahead of newer messages, keeping FIFO order.
func (m *mailbox) putBack(rest []envelope) {
	if len(rest) == 0 {
		return
	}
	m.mu.Lock()
	m.q.pushFront(rest)
	m.mu.Unlock()
	clear(rest)
}

// close refuses user messages from now on and empties the queue, waking
// blocked senders (who will find it closed). It returns what was queued,
// for the caller to turn into dead letters. Closing when the stop is
// requested, not when the actor gets to it, fails queued Requests at once
// even while the actor is still busy in Receive.
func (m *mailbox) close() []envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var queued []envelope
	if m.q.n > 0 {
		queued = make([]envelope, m.q.n)
		m.q.take(queued)
	}
	m.q = ring{}
	m.wakeBlocked()
	return queued
}

// seal refuses system messages too and drops those queued: the actor has
// terminated. It returns the messages accepted since the last batch.
func (m *mailbox) seal() (sent uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sealed = true
	m.sysq = nil
	sent, m.enqueued = m.enqueued, 0
	return sent
}

// depth returns how many user messages wait.
func (m *mailbox) depth() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.q.n
}

// ring is a FIFO of envelopes that grows by doubling on demand. It starts
// empty, so an idle actor with a 1024-message bound costs no buffer until
// messages actually queue up. The length is always a power of two.
type ring struct {
	buf  []envelope
	head int
	n    int
}

func (r *ring) push(e envelope) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = e
	r.n++
}

// pushFront puts es back at the head in order: the unprocessed rest of a
// batch returns to the mailbox ahead of newer messages, keeping FIFO order.
func (r *ring) pushFront(es []envelope) {
	for i := len(es) - 1; i >= 0; i-- {
		if r.n == len(r.buf) {
			r.grow()
		}
		r.head = (r.head - 1) & (len(r.buf) - 1)
		r.buf[r.head] = es[i]
		r.n++
	}
}

func (r *ring) pop() envelope {
	e := r.buf[r.head]
	r.buf[r.head] = envelope{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return e
}

// take moves up to len(dst) envelopes into dst and returns how many, clearing
// the vacated slots so the ring holds no stale references for the GC.
func (r *ring) take(dst []envelope) int {
	k := min(r.n, len(dst))
	for i := range k {
		j := (r.head + i) & (len(r.buf) - 1)
		dst[i] = r.buf[j]
		r.buf[j] = envelope{}
	}
	r.head = (r.head + k) & (len(r.buf) - 1)
	r.n -= k
	return k
}

func (r *ring) grow() {
	size := max(8, 2*len(r.buf))
	buf := make([]envelope, size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}
