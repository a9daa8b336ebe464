package actors

import (
	"cmp"
	"slices"
	"time"
)

// supervision is an actor's place in the supervision tree: its parent,
// whose Strategy handles its failures, its children, whose failures its own
// strategy handles, and its recent failures for the restart intensity.
// Supervision runs on the failing actor's own drain goroutine, and restarts
// travel as system messages, so every transition of an actor happens on its
// own goroutine, never concurrently with its Receive.
type supervision struct {
	parent   *process // the System's root for top-level actors; nil for the root
	strategy Strategy // how this actor supervises its children
	// children and backoff are guarded by the process lock.
	children map[uint64]*process
	backoff  *time.Timer // pending delayed restart
	// restarts are the failures within the window; drain goroutine only.
	restarts []time.Time
}

// adopt registers c as a child, unless p is stopping.
func (p *process) adopt(c *process) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.sup.children == nil {
		p.sup.children = make(map[uint64]*process)
	}
	p.sup.children[c.id] = c
	return true
}

// disown forgets a terminated child.
func (p *process) disown(c *process) {
	p.mu.Lock()
	delete(p.sup.children, c.id)
	p.mu.Unlock()
}

// children returns the live children in spawn order.
func (p *process) children() []*process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.childList()
}

// childList returns the children in spawn order; called with p.mu held.
func (p *process) childList() []*process {
	kids := make([]*process, 0, len(p.sup.children))
	for _, c := range p.sup.children {
		kids = append(kids, c)
	}
	slices.SortFunc(kids, func(a, b *process) int { return cmp.Compare(a.id, b.id) })
	return kids
}

// stopChildren stops every child and waits for each to terminate. Draining
// (Poison, Shutdown) goes child by child in reverse spawn order, each
// finishing its queue; a hard stop stops them all at once.
func (p *process) stopChildren(drain bool) {
	kids := p.children()
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

// fail handles this actor's failure on its own goroutine with its parent's
// strategy: restart (itself or its siblings too) after a backoff, or, past
// the restart intensity, give up: stop, and make the parent fail in turn.
func (p *process) fail(f *failure) {
	p.report(f)
	parent := p.sup.parent
	st := &parent.sup.strategy
	if !p.sup.allowRestart(st) {
		p.giveUp(f.err)
		return
	}
	p.drain.suspended = true
	delay := st.delay(len(p.sup.restarts))
	for _, t := range st.targets(parent, p) {
		t.scheduleRestart(f.err, delay)
	}
}

// giveUp stops an actor past its restart intensity and escalates to its
// parent, which fails in turn; at the top level the actor just stops.
func (p *process) giveUp(err error) {
	parent := p.sup.parent
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
}

// allowRestart counts a failure against the strategy's intensity.
func (s *supervision) allowRestart(st *Strategy) bool {
	now := time.Now()
	keep := s.restarts[:0]
	for _, t := range s.restarts {
		if now.Sub(t) < st.window {
			keep = append(keep, t)
		}
	}
	s.restarts = keep
	if len(keep) >= st.maxRestarts {
		return false
	}
	s.restarts = append(s.restarts, now)
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
	if p.sup.backoff != nil {
		p.sup.backoff.Stop()
	}
	p.sup.backoff = time.AfterFunc(delay, func() { p.enqueueSys(msg) })
}

// restart replaces the instance (or tells the by-value actor), after its
// children, timers and subscriptions are gone; the mailbox is kept.
func (p *process) restart(reason error, delay time.Duration) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.sup.backoff = nil
	p.mu.Unlock()
	p.stopChildren(false)
	p.cancelTimers()
	p.unsubscribeAll()
	if p.drain.producer != nil {
		a, err := produce(p.drain.producer)
		if err != nil {
			p.fail(&failure{err: err})
			return
		}
		p.drain.actor = a
	} else if f := p.lifecycle(Restarting{Reason: reason}); f != nil {
		p.fail(f)
		return
	}
	p.drain.suspended = false
	p.sys.restarts.Add(1)
	if ob := p.sys.observe; ob != nil {
		ob.restarted(p, reason, delay)
	}
	if m := p.sys.metrics; m != nil {
		m.restarted(bg, p.kind)
	}
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorRestarted{Ref: p.ref(), Reason: reason, Delay: delay})
	}
	p.start()
}

// report logs a failure with its stack and publishes ActorFailed.
func (p *process) report(f *failure) {
	if f.stack != nil {
		p.sys.logger.Error("actor failed", "actor", p.ref().String(), "error", f.err, "stack", string(f.stack))
	} else {
		p.sys.logger.Error("actor failed", "actor", p.ref().String(), "error", f.err)
	}
	if p.sys.events.hasSubscribers() {
		p.sys.events.publish(ActorFailed{Ref: p.ref(), Err: f.err, Stack: f.stack})
	}
}
