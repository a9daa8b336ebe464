package wasm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// callPool holds the instances of a Component that serve Call: up to
// runtime.max_cpu_cores at once, kept between calls.
type callPool struct {
	once   sync.Once
	slots  chan struct{} // one token per instance that may run at once
	mu     sync.Mutex
	idle   []*instance
	closed bool // Runtime.Close emptied the pool: instances coming back are closed
}

// Call runs msg through an instance of c directly, with no actor around it:
// the component as a sandboxed function, for a caller that needs no
// mailbox, supervision or subscriptions — a plug-in filter, a validator.
// The guest receives msg as a kind 1 message under the component's
// deadline, capabilities and limits, exactly as its actor would.
//
// Up to runtime.max_cpu_cores calls run at once, each on its own instance,
// kept between calls (state in memory may therefore carry over from one
// call to the next on the same instance; put state that matters in KV).
// Further calls wait for an instance, or for ctx. The reply is the guest's
// payload, nil when empty; a guest's error reply is a *GuestError. A
// timeout, a trap or an ABI violation discards the instance and returns
// the failure (a timeout matches *actors.TimeoutError). The subscribe host
// call fails in a Call, since there is no actor to deliver to.
func (c *Component) Call(ctx context.Context, msg []byte) ([]byte, error) {
	p := c.callPool()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wasm: component %q: waiting for an instance: %w", c.name, ctx.Err())
	}
	defer func() { <-p.slots }()
	in, err := c.callInstance(ctx, p)
	if err != nil {
		return nil, err
	}
	view, err := in.send(abi.KindMessage, msg)
	if f := (*failure)(nil); errors.As(err, &f) {
		return nil, in.discard(err)
	}
	var reply []byte
	if err == nil {
		var guestErr *GuestError
		if reply, guestErr = decodeReply(c.name, view); guestErr != nil {
			err = guestErr
		}
	}
	p.put(in)
	return reply, err
}

// put returns in to the idle pool, or closes it once the pool is closed: a
// call that was in flight during Runtime.Close would otherwise leave its
// instance, with its serve-loop coroutine and its memory mapping, in a pool
// nobody empties again.
func (p *callPool) put(in *instance) {
	p.mu.Lock()
	if !p.closed {
		p.idle = append(p.idle, in)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	in.close()
}

// callPool returns c's pool, made on the first Call with the pool size of
// the version current then.
func (c *Component) callPool() *callPool {
	c.calls.once.Do(func() {
		c.calls.slots = make(chan struct{}, max(c.Manifest().Runtime.MaxCPUCores, 1))
	})
	return &c.calls
}

// callInstance returns an idle instance of the current version, or a new
// one, initialised. Idle instances of a version a reload replaced are
// closed on the way.
func (c *Component) callInstance(ctx context.Context, p *callPool) (*instance, error) {
	cur := c.cur.Load()
	p.mu.Lock()
	for len(p.idle) > 0 {
		in := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if in.v == cur {
			p.mu.Unlock()
			return in, nil
		}
		in.close()
	}
	p.mu.Unlock()
	in, err := c.take(ctx, noActor)
	if err != nil {
		return nil, err
	}
	if err := in.runInit(); err != nil {
		return nil, in.discard(err)
	}
	return in, nil
}

// closeCalls closes the idle Call instances, and those of calls still in
// flight as they finish; Runtime.Close calls it before the component's
// runtime goes.
func (c *Component) closeCalls() {
	c.calls.mu.Lock()
	idle := c.calls.idle
	c.calls.idle, c.calls.closed = nil, true
	c.calls.mu.Unlock()
	for _, in := range idle {
		in.close()
	}
}
