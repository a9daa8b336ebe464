package actors

import (
	"sync"
	"time"
)

// Timer is a pending After or Every message to an actor itself. All of an
// actor's timers are stopped when it stops or restarts; a tick already
// queued when its Timer stops is discarded, not delivered.
type Timer struct {
	p     *process
	msg   any
	every time.Duration
	mu    sync.Mutex
	t     *time.Timer
	dead  bool
}

// timerTick is what a Timer queues: the Timer itself under a type users
// cannot send, so the drain loop can check it is still live without an
// allocation per tick.
type timerTick Timer

// take reports whether the tick should be delivered; delivering a one-shot
// timer's tick ends it.
func (t *timerTick) take() bool {
	t.mu.Lock()
	if t.dead {
		t.mu.Unlock()
		return false
	}
	oneShot := t.every == 0
	t.dead = oneShot
	t.mu.Unlock()
	if oneShot {
		t.p.forgetTimer((*Timer)(t))
	}
	return true
}

func (p *process) newTimer(d, every time.Duration, msg any) *Timer {
	t := &Timer{p: p, msg: msg, every: every}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		t.dead = true
		return t
	}
	if p.timers == nil {
		p.timers = make(map[*Timer]struct{})
	}
	p.timers[t] = struct{}{}
	t.mu.Lock()
	t.t = time.AfterFunc(d, t.fire)
	t.mu.Unlock()
	return t
}

func (t *Timer) fire() {
	t.mu.Lock()
	if t.dead {
		t.mu.Unlock()
		return
	}
	if t.every > 0 {
		t.t.Reset(t.every)
	}
	t.mu.Unlock()
	_ = t.p.deliver(bg, envelope{msg: (*timerTick)(t)})
}

// Stop cancels the timer and reports whether it was still pending.
func (t *Timer) Stop() bool {
	if !t.stop() {
		return false
	}
	t.p.forgetTimer(t)
	return true
}

func (t *Timer) stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return false
	}
	t.dead = true
	t.t.Stop()
	return true
}

func (p *process) forgetTimer(t *Timer) {
	p.mu.Lock()
	delete(p.timers, t)
	p.mu.Unlock()
}

// cancelTimers stops every timer of the actor (on stop and restart).
func (p *process) cancelTimers() {
	p.mu.Lock()
	timers := p.timers
	p.timers = nil
	p.mu.Unlock()
	for t := range timers {
		t.stop()
	}
}
