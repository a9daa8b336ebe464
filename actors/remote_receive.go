package actors

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/troupehq/troupe/problem"
)

// noWait is the context of a delivery from another node: a full mailbox
// refuses the message at once, whatever its policy, because the waiting
// would stall the node's one subscription and every message behind it.
// Back-pressure does not cross nodes; a Request sees ErrMailboxFull.
var noWait context.Context = expiredContext{bg}

type expiredContext struct{ context.Context }

func (expiredContext) Deadline() (time.Time, bool) { return time.Unix(0, 1), true }
func (expiredContext) Done() <-chan struct{}       { return closedChan }
func (expiredContext) Err() error                  { return context.DeadlineExceeded }

// onNodeMsg handles every envelope addressed to this node (and, through
// the pool subscriptions, to its pool members). It runs on the
// subscription's goroutine, one envelope at a time, which is what keeps
// the messages of one sender in order; it never blocks.
func (c *cluster) onNodeMsg(m *nats.Msg) {
	if !c.admit(m) {
		return
	}
	if !isBatch(m.Data) {
		c.handleEnvelope(m.Data, m.Reply)
		return
	}
	err := batchFrames(m.Data, func(env []byte) { c.handleEnvelope(env, "") })
	if err != nil {
		c.sys.post.deadLetter(Ref{}, envelope{msg: append([]byte(nil), m.Data...)}, ReasonMalformed)
	}
}

// admit refuses an envelope (or batch) larger than the max payload.
func (c *cluster) admit(m *nats.Msg) bool {
	if len(m.Data) <= c.maxPayload {
		return true
	}
	c.refuse(m.Reply, &wireMsg{}, Ref{}, nil, ReasonOversized, errCodeTooLarge, "envelope exceeds the receiving node's max payload")
	return false
}

// handleEnvelope handles one envelope for this node; reply is the NATS
// reply subject ("" inside a batch, which carries sends only).
func (c *cluster) handleEnvelope(data []byte, reply string) {
	var w wireMsg
	if !c.decodeEnvelope(data, reply, &w) {
		return
	}
	switch w.kind {
	case kindSend, kindRequest:
		c.deliverInbound(reply, &w)
	case kindPoison, kindStop, kindWatch:
		c.serveControl(reply, &w)
	case kindTerminated:
		c.watches.terminated(&w)
	default:
		c.refuse(reply, &w, Ref{}, data, ReasonMalformed, errCodeRemote, "unexpected envelope kind")
	}
}

// decodeEnvelope decodes an envelope. A failure is a dead letter with its
// reason, and a request gets the error as its reply.
func (c *cluster) decodeEnvelope(data []byte, reply string, w *wireMsg) bool {
	if err := decodeWire(data, w); err != nil {
		reason := ReasonMalformed
		if errors.Is(err, errWireVersion) {
			reason = ReasonVersion
		}
		c.logger.Debug("refused an envelope", "error", err)
		c.refuse(reply, w, Ref{}, data, reason, errCodeRemote, err.Error())
		return false
	}
	c.metrics.received(w.kind)
	return true
}

// deliverInbound decodes a message and queues it for its local target.
func (c *cluster) deliverInbound(reply string, w *wireMsg) {
	var target endpoint
	var entity bool
	isEntity := isEntityAddr(w.to)
	if isEntity {
		// An entity with no activation here is activated here: the sender
		// found this node in the lease, or held a hint to it.
		if e := c.sys.shards.byName(w.to.name); e != nil {
			target, entity = entityHere{e}, true
		}
	} else if p := c.localTarget(w.to); p != nil {
		target = p
	}
	to := c.targetRef(target, w.to)
	cd := wireTypes.forName([]byte(w.typeName))
	if cd == nil || cd.content != w.content {
		c.refuse(reply, w, to, w.payload, ReasonUnknownType, errCodeUnregistered, w.typeName)
		return
	}
	msg, err := cd.decode(w.payload)
	switch {
	case err != nil:
		c.refuse(reply, w, to, w.payload, ReasonMalformed, errCodeRemote, "corrupt payload: "+err.Error())
		return
	case w.deadline != 0 && time.Now().UnixNano() > w.deadline:
		c.refuse(reply, w, to, msg, ReasonExpired, errCodeTimeout, "")
		return
	case target == nil && (w.to.node == "" || isEntity):
		c.refuse(reply, w, to, msg, ReasonStopped, errCodeNotFound, strings.TrimPrefix(w.to.name, entityMark))
		return
	case target == nil:
		c.refuse(reply, w, to, msg, ReasonStopped, errCodeStopped, "")
		return
	case w.kind == kindRequest && reply == "":
		c.refuse(reply, w, to, msg, ReasonMalformed, errCodeRemote, "request without a reply subject")
		return
	}
	env := envelope{msg: msg}
	from := c.senderRef(w.from)
	var in *inbound
	if w.kind == kindRequest || !from.IsZero() || w.deadline != 0 || len(w.trace) > 0 {
		in = &inbound{msg: msg, from: from, deadline: w.deadline, trace: w.trace, c: c, corr: w.corr}
		if w.kind == kindRequest {
			in.replyTo = reply
		}
		env.msg = in
		if d, p := c.sys.cycles, waitedOn(target); d != nil && p != nil && in.isRequest() {
			if st := d.atReceipt(c, in, p); st != nil && d.failFast {
				d.resolve(c.sys, st, "failed fast")
				in.fail(&CycleError{Cycle: st.c})
				return
			}
			if p.obs != nil {
				p.obs.queue(in)
			}
		}
	}
	// A refusal was dead-lettered by the mailbox; a request learns why.
	err = target.deliver(noWait, env)
	if entity && errors.Is(err, ErrStopped) {
		err = ErrNotOwner // an activation stopping as it arrived: not processed
	}
	if err != nil && in != nil {
		if err == errDropped {
			err = ErrMailboxFull
		}
		in.fail(err)
	}
}

// refuse dead-letters an envelope this node will not deliver and answers
// a request (or control call) with the matching error.
func (c *cluster) refuse(reply string, w *wireMsg, to Ref, msg any, reason string, code errCode, text string) {
	if b, ok := msg.([]byte); ok {
		msg = append([]byte(nil), b...) // do not alias the subscription's buffer
	}
	c.sys.post.deadLetter(to, envelope{msg: msg}, reason)
	if reply != "" {
		c.replyWire(reply, &wireMsg{kind: kindReply, corr: w.corr, from: wireAddr{node: c.node}, errCode: code, errText: text}, nil, nil)
	}
}

// localTarget finds the live local actor an envelope is for: by name
// (checking the id, which is 0 for a pool), else among the exported
// anonymous actors.
func (c *cluster) localTarget(to wireAddr) *process {
	if to.name != "" {
		v, ok := c.sys.names.Load(to.name)
		if !ok {
			return nil
		}
		if p := v.(*process); to.id == 0 || p.id == to.id {
			return p
		}
		return nil
	}
	if v, ok := c.exports.Load(to.id); ok {
		return v.(*process)
	}
	return nil
}

// targetRef names an envelope's target in dead letters: the live actor or
// entity, else its address on this node (or its pool).
func (c *cluster) targetRef(ep endpoint, to wireAddr) Ref {
	switch ep := ep.(type) {
	case *process:
		return ep.ref()
	case entityHere:
		return Ref{ep: ep.entityRef}
	}
	if to.node == "" {
		return c.refs.get(refKey{pool: to.name}, to.name, "pool")
	}
	return c.refs.get(refKey{node: c.node, id: to.id}, to.name, "remote")
}

// senderRef is the Ref of a message's sender: a local actor when it names
// this node (a pool message this node sent itself), else a remote Ref.
func (c *cluster) senderRef(a wireAddr) Ref {
	switch {
	case a.node == "" && a.id == 0:
		return Ref{}
	case a.node == c.node:
		if p := c.localTarget(a); p != nil {
			return p.ref()
		}
	}
	return c.refs.get(refKey{node: a.node, id: a.id}, a.name, "remote")
}

// serveControl answers a control call on a local actor.
func (c *cluster) serveControl(reply string, w *wireMsg) {
	if isEntityAddr(w.to) {
		c.serveEntityControl(reply, w)
		return
	}
	target := c.localTarget(w.to)
	var err error
	switch {
	case target == nil && w.to.node == "":
		err = &NotFoundError{Name: w.to.name}
	case target == nil:
		err = ErrStopped
	case w.kind == kindPoison:
		err = target.poison()
	case w.kind == kindStop:
		err = target.stop()
	case w.kind == kindWatch:
		c.watches.serve(target, w.from.node)
	}
	if reply != "" {
		c.reply(reply, w.corr, nil, err)
	}
}

// reply sends a request's reply (or a control call's answer) to the
// caller's inbox. A reply that cannot leave — an unregistered type, too
// large, the connection down — is a dead letter here; the caller gets the
// error instead of the value when the error can still be sent.
func (c *cluster) reply(inbox string, corr uint64, v any, err error) {
	w := wireMsg{kind: kindReply, corr: corr, from: wireAddr{node: c.node}}
	var cd *codec
	switch {
	case err != nil:
		w.errCode, w.errText = encodeError(err)
		var pe *problem.Error
		if w.errCode == errCodeProblem && errors.As(err, &pe) {
			v, cd = pe, wireTypes.problem
			w.typeName, w.content = cd.name, cd.content
		}
	case v != nil:
		var cerr error
		if cd, cerr = wireTypes.forValue(v); cerr != nil {
			c.sys.post.deadLetter(Ref{}, envelope{msg: v}, ReasonUnknownType)
			w.errCode, w.errText = encodeError(cerr)
		} else {
			w.typeName, w.content = cd.name, cd.content
		}
	}
	c.replyWire(inbox, &w, cd, v)
}

// replyWire publishes a reply, falling back to an error reply when the
// value cannot be sent.
func (c *cluster) replyWire(inbox string, w *wireMsg, cd *codec, v any) {
	err := c.send(inbox, "", w, cd, v)
	if err != nil && cd != nil && !errors.Is(err, ErrUnavailable) {
		c.sys.post.deadLetter(Ref{}, envelope{msg: v}, lossReason(err))
		w.typeName, w.content = "", 0
		w.errCode, w.errText = encodeError(err)
		err = c.send(inbox, "", w, nil, nil)
	}
	if err != nil {
		c.sys.post.deadLetter(Ref{}, envelope{msg: v}, lossReason(err))
		return
	}
	c.metrics.sent(kindReply)
}
