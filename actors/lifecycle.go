package actors

import (
	"cmp"
	"slices"
	"time"
)

// start delivers Started to the current instance.
func (p *process) start() {
	if p.lifecycle(Started{}) {
		p.fail(p.failErr, p.failStack)
	}
}

// requestStop asks for a hard stop: user messages are refused from now on,
// the actor stops after its current message, and its queue becomes dead
// letters. It reports false when a stop was already requested or done. An
// actor already terminating (draining for Poison or Shutdown) passes the
// hard stop on to its children so a deadline cuts the whole subtree short.
func (p *process) requestStop() bool {
	p.mu.Lock()
	if p.terminated || p.stopReq.Load() {
		p.mu.Unlock()
		return false
	}
	p.stopReq.Store(true)
	p.closed = true
	if p.abort != nil {
		close(p.abort)
	}
	p.abort = closedChan
	var kids []*process
	if p.terminating {
		kids = p.childList()
	}
	queued := p.takeQueued()
	p.mu.Unlock()
	p.deadLetterQueued(queued)
	p.enqueueSys(sysMsg{kind: sysStop})
	for _, c := range kids {
		c.requestStop()
	}
	return true
}

// takeQueued empties the mailbox and wakes blocked senders (who will find
// it closed); called with p.mu held. Doing this when the stop is requested,
// not when the actor gets to it, fails queued Requests at once even while
// the actor is still busy in Receive.
func (p *process) takeQueued() []envelope {
	var queued []envelope
	if p.q.n > 0 {
		queued = make([]envelope, p.q.n)
		p.q.take(queued)
	}
	p.q = ring{}
	if p.notFull != nil {
		close(p.notFull)
		p.notFull = nil
	}
	return queued
}

// deadLetterQueued turns messages that will never be processed into dead
// letters, failing their Requests with ErrStopped.
func (p *process) deadLetterQueued(queued []envelope) {
	for i := range queued {
		if _, ok := queued[i].msg.(poisonPill); ok {
			continue
		}
		p.sys.deadLetter(p, &queued[i], ReasonStopped)
		queued[i].fail(ErrStopped)
	}
}

// abortChan returns a channel closed once a hard stop is requested; an
// actor waiting on its own Request selects on it so Stop never hangs.
func (p *process) abortChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.abort == nil {
		p.abort = make(chan struct{})
	}
	return p.abort
}

// doneChan returns a channel closed when the actor has terminated.
func (p *process) doneChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminated {
		return closedChan
	}
	if p.done == nil {
		p.done = make(chan struct{})
	}
	return p.done
}

// childList returns the children in spawn order; called with p.mu held.
func (p *process) childList() []*process {
	kids := make([]*process, 0, len(p.children))
	for _, c := range p.children {
		kids = append(kids, c)
	}
	slices.SortFunc(kids, func(a, b *process) int { return cmp.Compare(a.id, b.id) })
	return kids
}

// stopChildren stops every child and waits for each to terminate. Draining
// (Poison, Shutdown) goes child by child in reverse spawn order, each
// finishing its queue; a hard stop stops them all at once.
func (p *process) stopChildren(drain bool) {
	p.mu.Lock()
	kids := p.childList()
	p.mu.Unlock()
	slices.Reverse(kids)
	if drain {
		for _, c := range kids {
			if c.poison() != nil {
				c.requestStop()
			}
			<-c.doneChan()
		}
		return
	}
	for _, c := range kids {
		c.requestStop()
	}
	for _, c := range kids {
		<-c.doneChan()
	}
}

// terminate runs on the drain goroutine: Stopping, children, timers,
// subscriptions, the queue to dead letters, Stopped, then unregistration.
func (p *process) terminate(reason error, drain bool) {
	p.ended = true
	p.mu.Lock()
	p.closed, p.terminating = true, true
	if p.backoff != nil {
		p.backoff.Stop()
		p.backoff = nil
	}
	p.mu.Unlock()
	p.lifecycleIgnoringPanic(Stopping{})
	p.stopChildren(drain && !p.stopReq.Load())
	p.cancelTimers()
	p.unsubscribeAll()

	p.mu.Lock()
	queued := p.takeQueued()
	p.sysq = nil
	sent := p.enqueued
	p.enqueued = 0
	p.mu.Unlock()
	p.sys.sent.Add(sent)
	p.deadLetterQueued(queued)
	p.lifecycleIgnoringPanic(Stopped{})

	if p.name != "" {
		p.sys.names.CompareAndDelete(p.name, p)
	}
	parent := p.parent
	parent.mu.Lock()
	delete(parent.children, p.id)
	parent.mu.Unlock()
	p.sys.live.Add(-1)
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorStopped{Ref: p.ref(), Reason: reason})
	}
	p.mu.Lock()
	p.terminated = true
	if p.done != nil {
		close(p.done)
	}
	p.mu.Unlock()
	p.actor = nil
}

// lifecycleIgnoringPanic delivers Stopping or Stopped: a panic there is
// logged but cannot restart an actor that is already going away.
func (p *process) lifecycleIgnoringPanic(msg any) {
	if p.lifecycle(msg) {
		p.report(p.failErr, p.failStack)
	}
}

// restart replaces the instance (or tells the by-value actor), after its
// children, timers and subscriptions are gone; the mailbox is kept.
func (p *process) restart(reason error, delay time.Duration) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.backoff = nil
	p.mu.Unlock()
	p.stopChildren(false)
	p.cancelTimers()
	p.unsubscribeAll()
	if p.producer != nil {
		a, err := produce(p.producer)
		if err != nil {
			p.fail(err, nil)
			return
		}
		p.actor = a
	} else if p.lifecycle(Restarting{Reason: reason}) {
		p.fail(p.failErr, p.failStack)
		return
	}
	p.suspended = false
	p.sys.restarts.Add(1)
	if m := p.sys.metrics; m != nil {
		m.Restarted(bg, p.kind)
	}
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorRestarted{Ref: p.ref(), Reason: reason, Delay: delay})
	}
	p.start()
}

// report logs a failure with its stack and publishes ActorFailed.
func (p *process) report(err error, stack []byte) {
	if stack != nil {
		p.sys.logger.Error("actor failed", "actor", p.ref().String(), "error", err, "stack", string(stack))
	} else {
		p.sys.logger.Error("actor failed", "actor", p.ref().String(), "error", err)
	}
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorFailed{Ref: p.ref(), Err: err, Stack: stack})
	}
}

// fail handles this actor's failure on its own goroutine with its parent's
// strategy: restart (itself or its siblings too) after a backoff, or, past
// the restart intensity, give up: stop, and make the parent fail in turn.
func (p *process) fail(err error, stack []byte) {
	p.report(err, stack)
	parent := p.parent
	st := &parent.strategy
	if !p.allowRestart(st) {
		sup := parent.ref()
		if parent == p.sys.root {
			sup = Ref{}
		}
		if p.sys.events.hasSubscribers() {
			p.sys.events.publish(Escalated{Ref: p.ref(), Supervisor: sup, Err: err})
		}
		p.terminate(err, false)
		if !sup.IsZero() {
			parent.enqueueSys(sysMsg{kind: sysFail, err: &EscalationError{Child: p.ref(), Err: err}})
		}
		return
	}
	p.suspended = true
	delay := st.delay(len(p.restarts))
	for _, t := range st.targets(parent, p) {
		t.scheduleRestart(err, delay)
	}
}

// allowRestart counts a failure against the strategy's intensity.
func (p *process) allowRestart(st *Strategy) bool {
	now := time.Now()
	keep := p.restarts[:0]
	for _, t := range p.restarts {
		if now.Sub(t) < st.window {
			keep = append(keep, t)
		}
	}
	p.restarts = keep
	if len(keep) >= st.maxRestarts {
		return false
	}
	p.restarts = append(p.restarts, now)
	return true
}

// scheduleRestart queues a restart now or after delay; a Stop cancels it.
func (p *process) scheduleRestart(reason error, delay time.Duration) {
	msg := sysMsg{kind: sysRestart, err: reason, delay: delay}
	if delay <= 0 {
		p.enqueueSys(msg)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.backoff != nil {
		p.backoff.Stop()
	}
	p.backoff = time.AfterFunc(delay, func() { p.enqueueSys(msg) })
}
