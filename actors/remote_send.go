package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// wireBufs recycles envelope buffers: nats.go copies what it publishes, so
// a buffer is free again as soon as the publish returns.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// deliver sends a message (or a request, or a forwarded request from
// another node) to a remote actor or pool: the remote endpoint's deliver.
// Failures are returned at the call and dead-lettered here.
func (c *cluster) deliver(ctx context.Context, to *remoteRef, env envelope) error {
	msg, in := env.msg, (*inbound)(nil)
	if m, ok := msg.(*inbound); ok {
		msg, in = m.msg, m
	}
	cd, err := wireTypes.forValue(msg)
	if err != nil {
		c.lost(Ref{ep: to}, env, ReasonUnknownType)
		return err
	}
	w := wireMsg{kind: kindSend, to: to.wire(), typeName: cd.name, content: cd.content}
	w.from = c.senderAddr(env.from, in)
	if in != nil {
		w.deadline, w.trace = in.deadline, in.trace
	}
	if d, ok := ctx.Deadline(); ok && (w.deadline == 0 || d.UnixNano() < w.deadline) {
		w.deadline = d.UnixNano()
	}
	if in == nil {
		w.trace = c.inject(ctx)
	}
	var reply string
	var token uint64
	switch {
	case in != nil && in.isRequest():
		// A request from another node, forwarded: the reply goes
		// straight back to the original caller's inbox.
		w.kind, w.corr, reply = kindRequest, in.corr, in.replyTo
	case env.req == nil:
	default:
		w.kind = kindRequest
		if w.deadline == 0 {
			w.deadline = time.Now().Add(c.cfg.RequestTimeout).UnixNano()
		}
		token, reply = c.mux.add(env.req, Ref{ep: to}, opRequest)
		w.corr = token
		if e := env.req.wait; e != nil && len(w.trace) < 2*maxTracePairs {
			w.trace = append(w.trace, c.waitsPair(e)...)
		}
	}
	if !c.connected() {
		err = ErrUnavailable
	} else if w.kind == kindSend {
		// Queued: the outbox publishes it with the sends queued beside it.
		var bp *[]byte
		if bp, err = c.encode(&w, cd, msg, c.maxPayload-batchOverhead); err == nil {
			to.out.enqueue(*bp)
			putWireBuf(bp)
			return nil
		}
	} else {
		err = c.sendDirect(to.out, reply, &w, cd, msg)
	}
	if err != nil {
		if token != 0 {
			c.mux.take(token)
		}
		c.lost(Ref{ep: to}, env, lossReason(err))
		return err
	}
	if token != 0 {
		c.mux.arm(token, w.deadline)
	}
	return nil
}

// sendDirect encodes a request or control envelope and publishes it
// through out, after the sends queued there.
func (c *cluster) sendDirect(out *outbox, reply string, w *wireMsg, cd *codec, msg any) error {
	bp, err := c.encode(w, cd, msg, c.maxPayload)
	if err != nil {
		return err
	}
	defer putWireBuf(bp)
	if err := out.direct(reply, *bp); err != nil {
		return err
	}
	c.metrics.sent(w.kind)
	return nil
}

// send encodes w with msg's payload and publishes it on subject, outside
// any outbox: replies to inboxes.
func (c *cluster) send(subject, reply string, w *wireMsg, cd *codec, msg any) error {
	bp, err := c.encode(w, cd, msg, c.maxPayload)
	if err != nil {
		return err
	}
	defer putWireBuf(bp)
	return c.publish(subject, reply, *bp)
}

// encode encodes w with msg's payload (none for a nil cd) into a pooled
// buffer, to be returned with putWireBuf, refusing more than limit bytes.
func (c *cluster) encode(w *wireMsg, cd *codec, msg any, limit int) (*[]byte, error) {
	bp := wireBufs.Get().(*[]byte)
	b := appendWire((*bp)[:0], w)
	var err error
	if cd != nil {
		if b, err = cd.encode(b, msg); err != nil {
			err = fmt.Errorf("actors: encoding %s as %q: %w", typeName(cd.typ), cd.name, err)
		}
	}
	*bp = b
	if err == nil && len(b) > limit {
		err = fmt.Errorf("%w: %d bytes, max %d", ErrMessageTooLarge, len(b), limit)
	}
	if err != nil {
		putWireBuf(bp)
		return nil, err
	}
	return bp, nil
}

// putWireBuf returns a buffer from encode to the pool; huge ones (a
// message near the max payload) are left to the GC.
func putWireBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		*bp = (*bp)[:0]
		wireBufs.Put(bp)
	}
}

// lossReason is the dead-letter reason of a failed send.
func lossReason(err error) string {
	switch {
	case errors.Is(err, ErrUnavailable):
		return ReasonUnavailable
	case errors.Is(err, ErrMessageTooLarge):
		return ReasonOversized
	}
	return ReasonMalformed
}

// lost dead-letters a message this node could not send.
func (c *cluster) lost(to Ref, env envelope, reason string) {
	c.sys.post.deadLetter(to, env, reason)
}

// senderAddr is the wire address of a message's sender: a local actor
// (exported, so a remote Ref to it resolves here) or the remote sender of
// a forwarded message.
func (c *cluster) senderAddr(from *process, in *inbound) wireAddr {
	if from != nil {
		return c.localAddr(from)
	}
	if in != nil {
		return c.refAddr(in.from)
	}
	return wireAddr{}
}

// localAddr is a local actor's wire address. An anonymous actor is
// exported, so an envelope naming it finds it (named ones are found by
// name); unregister removes it.
func (c *cluster) localAddr(p *process) wireAddr {
	if p.name == "" {
		c.exports.LoadOrStore(p.id, p)
	}
	return wireAddr{node: c.node, id: p.id, name: p.name}
}

// refAddr is the wire address of any Ref.
func (c *cluster) refAddr(r Ref) wireAddr {
	switch ep := r.ep.(type) {
	case *remoteRef:
		return ep.wire()
	case *process:
		return c.localAddr(ep)
	}
	return wireAddr{}
}

// control makes a control call (Poison, Stop) on a remote actor and
// returns the owner's answer. The mux's timer bounds the wait, so it needs
// no select.
func (c *cluster) control(to *remoteRef, kind wireKind) error {
	r := &request{ch: make(chan reply, 1)}
	rep, err := c.call(to, kind, r)
	if err != nil {
		return err
	}
	return rep.err
}

// call sends a control envelope as a request and waits for its answer.
func (c *cluster) call(to *remoteRef, kind wireKind, r *request) (reply, error) {
	if !c.connected() {
		return reply{}, ErrUnavailable
	}
	w := wireMsg{kind: kind, to: to.wire(), from: wireAddr{node: c.node}}
	w.deadline = time.Now().Add(c.cfg.RequestTimeout).UnixNano()
	token, inbox := c.mux.add(r, Ref{ep: to}, opControl)
	w.corr = token
	if err := c.sendDirect(to.out, inbox, &w, nil, nil); err != nil {
		c.mux.take(token)
		return reply{}, err
	}
	c.mux.arm(token, w.deadline)
	return <-r.ch, nil
}

// inject returns ctx's trace context as wire pairs, nil when it carries
// none. Sends without a context (System.Send) skip it entirely.
func (c *cluster) inject(ctx context.Context) []string {
	if ctx == bg || ctx == nil {
		return nil
	}
	if c.defaultPropagator && !trace.SpanContextFromContext(ctx).IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return nil
	}
	var tc traceCarrier
	c.cfg.Propagator.Inject(ctx, &tc)
	return tc.kv
}

// traceCarrier is a propagation.TextMapCarrier over the envelope's trace
// pairs.
type traceCarrier struct{ kv []string }

var _ propagation.TextMapCarrier = (*traceCarrier)(nil)

// Get returns key's value.
func (t *traceCarrier) Get(key string) string {
	for i := 0; i+1 < len(t.kv); i += 2 {
		if t.kv[i] == key {
			return t.kv[i+1]
		}
	}
	return ""
}

// Set sets key, up to the envelope's bound on pairs.
func (t *traceCarrier) Set(key, value string) {
	for i := 0; i+1 < len(t.kv); i += 2 {
		if t.kv[i] == key {
			t.kv[i+1] = value
			return
		}
	}
	if len(t.kv) < 2*maxTracePairs && len(key) <= maxWireString && len(value) <= maxWireString {
		t.kv = append(t.kv, key, value)
	}
}

// Keys lists the keys.
func (t *traceCarrier) Keys() []string {
	keys := make([]string, 0, len(t.kv)/2)
	for i := 0; i+1 < len(t.kv); i += 2 {
		keys = append(keys, t.kv[i])
	}
	return keys
}
