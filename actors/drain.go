package actors

import (
	"runtime/debug"
	"time"
)

// failure is why an actor failed: the error, and the stack of a panic.
type failure struct {
	err   error
	stack []byte
}

// recovered turns a recovered panic value into a failure.
func recovered(v any) *failure {
	return &failure{err: &PanicError{Value: v}, stack: debug.Stack()}
}

// run is the drain goroutine: it exists only while the actor has work, and
// exits when the mailbox reports idle (empty, or the actor suspended).
func (p *process) run() {
	var batch *[batchSize]envelope
	defer func() {
		if batch != nil {
			batchPool.Put(batch)
		}
	}()
	for {
		sys, k, sent, idle := p.mb.next(&batch, p.drain.suspended)
		switch {
		case idle:
			return
		case sys != nil:
			for _, m := range sys {
				p.handleSys(m)
				if p.drain.ended {
					return
				}
			}
		default:
			p.sys.sent.Add(sent)
			p.processBatch(batch[:k])
			if p.drain.ended {
				return
			}
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
		p.fail(&failure{err: m.err})
	}
}

// processBatch runs Receive for each envelope. On a failure, a Stop or a
// system message it puts the unprocessed rest back at the mailbox head and
// returns, so the loop can react before the next message.
func (p *process) processBatch(batch []envelope) {
	next, f := p.receiveFrom(batch, 0)
	p.sys.processed.Add(uint64(next))
	switch {
	case f != nil:
		// receiveFrom stopped inside batch[next]; settle it like invoke would.
		cx := &p.drain.cx
		if env := &batch[next]; env.req != nil && !cx.replied {
			env.req.complete(nil, f.err)
		}
		if p.obs != nil && p.obs.cur != nil {
			p.end(cx, f.err)
		}
		if in, ok := cx.reqCtx.(*inbound); ok {
			if !cx.replied {
				in.fail(f.err)
			}
			in.release()
		}
		cx.env, cx.reqCtx = nil, nil
		p.sys.processed.Add(1)
		p.mb.putBack(batch[next+1:])
		clear(batch[:next+1])
		p.fail(f)
	case next == len(batch):
	default:
		// Stopped early at batch[next]: a poison pill or an interrupt.
		if _, ok := batch[next].msg.(poisonPill); ok {
			p.mb.putBack(batch[next+1:])
			clear(batch[:next+1])
			p.terminate(nil, true)
			return
		}
		p.mb.putBack(batch[next:])
	}
}

// receiveFrom delivers batch[i:] until the end, a poison pill, an interrupt
// or a panic, and returns where it stopped. One deferred recover covers the
// whole run, so the per-message cost of panic containment is nil.
func (p *process) receiveFrom(batch []envelope, i int) (next int, f *failure) {
	defer func() {
		if r := recover(); r != nil {
			next, f = i, recovered(r)
		}
	}()
	for ; i < len(batch); i++ {
		env := &batch[i]
		switch m := env.msg.(type) {
		case poisonPill:
			return i, nil
		case *timerTick:
			if !m.take() {
				*env = envelope{}
				continue
			}
			env.msg = m.msg
		case *inbound:
			p.receiveInbound(env, m)
			*env = envelope{}
			if p.mb.interrupt.Load() {
				return i + 1, nil
			}
			continue
		case *traced:
			if in, ok := m.msg.(*inbound); ok {
				p.receiveInbound(env, in)
				*env = envelope{}
				if p.mb.interrupt.Load() {
					return i + 1, nil
				}
				continue
			}
		}
		p.invoke(env)
		*env = envelope{}
		if p.mb.interrupt.Load() {
			return i + 1, nil
		}
	}
	return i, nil
}

// invoke delivers one user message and settles its Request: a request not
// answered (or forwarded) when Receive returns gets an error at once, so a
// caller never waits for a reply that cannot come. A panic unwinds through
// invoke to receiveFrom, which settles the request instead.
func (p *process) invoke(env *envelope) {
	c := &p.drain.cx
	t, traced := env.msg.(*traced)
	if traced {
		p.begin(env, t)
	}
	c.env, c.replied = env, false
	if env.req != nil {
		c.reqCtx = env.req.ctx
	}
	if p.sys.cycles != nil {
		p.obs.noteAbove(env, c.reqCtx)
	}
	switch m := p.sys.metrics; {
	case traced:
		// The trace's stamps time the metric too: two clock reads fewer.
		p.drain.actor.Receive(c, env.msg)
		t.o.Ended = stamp()
		if m != nil && !p.drain.noTiming {
			m.processed(bg, p.kind, t.o.Ended.Sub(t.o.Started))
		}
	case m != nil && !p.drain.noTiming:
		start := time.Now()
		p.drain.actor.Receive(c, env.msg)
		m.processed(bg, p.kind, time.Since(start))
	default:
		p.drain.actor.Receive(c, env.msg)
	}
	if env.req != nil && !c.replied {
		err := ErrNoReply
		if p.stopReq.Load() {
			err = ErrStopped
		}
		env.req.complete(nil, err)
	}
	if traced {
		p.end(c, nil)
	}
	if p.sys.cycles != nil {
		p.obs.parent, p.obs.above = nil, nil
	}
	c.env, c.reqCtx = nil, nil
}

// lifecycle delivers a runtime message outside any request, turning a
// panic into the failure it returns.
func (p *process) lifecycle(msg any) (f *failure) {
	env := envelope{msg: msg}
	c := &p.drain.cx
	c.env, c.replied = &env, false
	defer func() {
		if r := recover(); r != nil {
			f = recovered(r)
		}
		c.env = nil
	}()
	p.drain.actor.Receive(c, msg)
	return nil
}
