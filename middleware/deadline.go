package middleware

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineCtx is the context a request runs under while Timeout guards it: a
// parent with a deadline, like context.WithDeadline, but built to live inside
// the timeoutWriter so that the pair costs one allocation, and to cost
// nothing more unless the handler waits on it.
//
// It has no timer of its own. Its owner calls expire when the deadline
// passes, from the one timer per request that also writes the 503, and
// release when the request is over, as context.WithDeadline's cancel would be
// called.
//
// Unlike a standard context it does not register with its parent up front:
// Err asks the parent on demand, and only the first Done or AfterFunc call,
// which needs to hear of the parent's end, registers with it. Its AfterFunc
// method is the one context.AfterFunc and context.WithCancel look for, so
// contexts derived from it directly are cancelled through its callback list
// rather than by a goroutine each. (The standard library looks for the
// method on the immediate parent only: a context derived through a
// context.WithValue layer still costs the goroutine, as it would under any
// context type outside the standard library.)
//
// context.Cause reports the cause recorded by the nearest standard context
// above it when that context has been cancelled (a departed client, or
// whatever cause the server gave), and otherwise Err: DeadlineExceeded after
// the deadline, Canceled after release. A parent cancelled after the deadline
// has passed therefore changes Cause but not Err.
//
// The zero value is not usable; call begin first, and do not copy it after.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	err  atomic.Pointer[error]         // set once, under mu, when the context ends
	done atomic.Pointer[chan struct{}] // set under mu by the first Done, or the end
	ch   chan struct{}                 // the channel done points to once Done made it

	mu      sync.Mutex
	hooked  bool        // the parent registration has been attempted
	unhook  func() bool // ends the parent registration; nil when there is none
	waiting afterFunc   // sentinel of the ring of callbacks not yet run or stopped
}

// afterFunc is one callback registered with deadlineCtx.AfterFunc, a link in
// the context's ring of pending callbacks.
type afterFunc struct {
	ctx        *deadlineCtx
	f          func()
	prev, next *afterFunc
}

// closedchan is the Done channel of a context that ended before anyone asked
// for one.
var closedchan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// The errors a context usually ends with, addressable so that storing one
// allocates nothing.
var (
	errCanceled         = context.Canceled
	errDeadlineExceeded = context.DeadlineExceeded
)

// begin makes c a context under parent that expires after timeout, or at the
// parent's deadline if that is sooner, and returns the time left until then.
func (c *deadlineCtx) begin(parent context.Context, timeout time.Duration) (wait time.Duration) {
	now := time.Now()
	c.parent = parent
	c.deadline = now.Add(timeout)
	if d, ok := parent.Deadline(); ok && d.Before(c.deadline) {
		c.deadline = d
	}
	c.waiting.next = &c.waiting
	c.waiting.prev = &c.waiting
	return c.deadline.Sub(now)
}

// Deadline returns the time at which c expires.
func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Value delegates to the parent: c carries no values of its own.
func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

// Err returns nil while c is live; then DeadlineExceeded, Canceled, or the
// error of a parent that ended first. The parent is asked on demand, so a
// handler polling Err sees its client leave without c having registered for
// the news.
func (c *deadlineCtx) Err() error {
	if err := c.err.Load(); err != nil {
		<-c.Done() // the channel closes under the same lock that stored err
		return *err
	}
	if err := c.parent.Err(); err != nil {
		c.cancel(err)
		return *c.err.Load()
	}
	return nil
}

// Done returns a channel that closes when c ends. The first call makes it and
// registers c with its parent.
func (c *deadlineCtx) Done() <-chan struct{} {
	if d := c.done.Load(); d != nil {
		return *d
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done.Load() == nil {
		c.ch = make(chan struct{})
		c.done.Store(&c.ch)
		c.hookLocked()
	}
	return *c.done.Load()
}

// AfterFunc arranges for f to run in its own goroutine once c ends, at once
// if it already has, as context.AfterFunc(c, f) does. stop unregisters f and
// reports whether that kept it from running. Its presence lets
// context.WithCancel(c) and its kin register with c instead of starting a
// goroutine per derived context.
func (c *deadlineCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{ctx: c, f: f}
	c.mu.Lock()
	if c.err.Load() == nil {
		c.hookLocked()
	}
	if c.err.Load() != nil {
		c.mu.Unlock()
		go f()
		return a.stop
	}
	a.prev, a.next = c.waiting.prev, &c.waiting
	a.prev.next, c.waiting.prev = a, a
	c.mu.Unlock()
	return a.stop
}

// stop removes a from its context's ring, and reports whether it was there.
func (a *afterFunc) stop() bool {
	c := a.ctx
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.next == nil {
		return false // already run, stopped, or never registered
	}
	a.prev.next, a.next.prev = a.next, a.prev
	a.prev, a.next = nil, nil
	return true
}

// expire ends c at its deadline: with DeadlineExceeded, or with the parent's
// error if the parent has already ended.
func (c *deadlineCtx) expire() {
	if err := c.parent.Err(); err != nil {
		c.cancel(err)
		return
	}
	c.cancel(errDeadlineExceeded)
}

// release ends c with Canceled if it is still live, and lets go of the
// parent; it is what WithDeadline's cancel function is to its context.
func (c *deadlineCtx) release() { c.cancel(errCanceled) }

// cancel ends c with err unless it has already ended.
func (c *deadlineCtx) cancel(err error) {
	c.mu.Lock()
	unhook := c.cancelLocked(err)
	c.mu.Unlock()
	// Ending the registration takes the parent's locks; c's need not be
	// held meanwhile.
	if unhook != nil {
		unhook()
	}
}

// cancelLocked ends c with err unless it has already ended, starting the
// pending callbacks, and returns the parent registration for the caller to
// end once mu is released. The caller holds mu.
func (c *deadlineCtx) cancelLocked(err error) (unhook func() bool) {
	if c.err.Load() != nil {
		return nil
	}
	switch err {
	case errCanceled:
		c.err.Store(&errCanceled)
	case errDeadlineExceeded:
		c.err.Store(&errDeadlineExceeded)
	default:
		e := err // escapes only on this rare path
		c.err.Store(&e)
	}
	if c.done.Load() != nil {
		close(c.ch)
	} else {
		c.done.Store(&closedchan)
	}
	for a := c.waiting.next; a != &c.waiting; {
		next := a.next
		a.prev, a.next = nil, nil
		go a.f()
		a = next
	}
	c.waiting.next, c.waiting.prev = &c.waiting, &c.waiting
	unhook, c.unhook = c.unhook, nil
	return unhook
}

// hookLocked registers c with its parent, once, so that c ends when the
// parent does; a parent that has already ended ends c at once. The caller
// holds mu and c has not ended.
func (c *deadlineCtx) hookLocked() {
	if c.hooked {
		return
	}
	c.hooked = true
	if c.parent.Done() == nil {
		return // the parent never ends
	}
	if err := c.parent.Err(); err != nil {
		c.cancelLocked(err) // nothing to unhook yet
		return
	}
	c.unhook = context.AfterFunc(c.parent, c.parentDone)
}

// parentDone is the callback registered with the parent.
func (c *deadlineCtx) parentDone() { c.cancel(c.parent.Err()) }
