package actors

// start delivers Started to the current instance.
func (p *process) start() {
	if f := p.lifecycle(Started{}); f != nil {
		p.fail(f)
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
	if p.abortCh != nil {
		close(p.abortCh)
	}
	p.abortCh = closedChan
	var kids []*process
	if p.terminating {
		kids = p.childList()
	}
	p.mu.Unlock()
	p.deadLetterQueued(p.mb.close())
	p.enqueueSys(sysMsg{kind: sysStop})
	for _, c := range kids {
		c.requestStop()
	}
	return true
}

// deadLetterQueued turns messages that will never be processed into dead
// letters, failing their Requests with ErrStopped.
func (p *process) deadLetterQueued(queued []envelope) {
	for i := range queued {
		if _, ok := queued[i].msg.(poisonPill); ok {
			continue
		}
		queued[i].lost(func(e envelope) { p.mb.sink.deadLetter(p.ref(), e, ReasonStopped) }, ErrStopped)
	}
}

// abortChan returns a channel closed once a hard stop is requested; an
// actor waiting on its own Request selects on it so Stop never hangs.
func (p *process) abortChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.abortCh == nil {
		p.abortCh = make(chan struct{})
	}
	return p.abortCh
}

// doneChan returns a channel closed when the actor has terminated.
func (p *process) doneChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminated {
		return closedChan
	}
	if p.doneCh == nil {
		p.doneCh = make(chan struct{})
	}
	return p.doneCh
}

// terminate runs on the drain goroutine: Stopping, children, timers,
// subscriptions, the queue to dead letters, Stopped, then unregistration.
func (p *process) terminate(reason error, drain bool) {
	p.drain.ended = true
	p.mu.Lock()
	p.closed, p.terminating = true, true
	if p.sup.backoff != nil {
		p.sup.backoff.Stop()
		p.sup.backoff = nil
	}
	p.mu.Unlock()
	queued := p.mb.close()
	p.lifecycleIgnoringPanic(Stopping{})
	p.stopChildren(drain && !p.stopReq.Load())
	p.cancelTimers()
	p.unsubscribeAll()
	p.deadLetterQueued(queued)
	p.sys.sent.Add(p.mb.seal())
	p.lifecycleIgnoringPanic(Stopped{})
	p.unregister(reason)
}

// unregister takes a terminated actor out of the System: its name, its
// parent's children, the live count; then Done fires.
func (p *process) unregister(reason error) {
	if p.name != "" {
		p.sys.deregister(p.name, p)
	} else if c := p.sys.cluster.Load(); c != nil {
		c.exports.Delete(p.id)
	}
	p.sup.parent.disown(p)
	p.sys.live.Add(-1)
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorStopped{Ref: p.ref(), Reason: reason})
	}
	p.mu.Lock()
	p.terminated = true
	if p.doneCh != nil {
		close(p.doneCh)
	}
	p.mu.Unlock()
	p.drain.actor = nil
}

// lifecycleIgnoringPanic delivers Stopping or Stopped: a panic there is
// logged but cannot restart an actor that is already going away.
func (p *process) lifecycleIgnoringPanic(msg any) {
	if f := p.lifecycle(msg); f != nil {
		p.report(f)
	}
}
