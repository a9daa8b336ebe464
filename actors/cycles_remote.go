package actors

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// Request cycles across nodes.
//
// A node sees only its own actors' waits, so the graph walk of cycles.go
// stops at a Request to another node. Instead of a distributed graph, a
// Request an actor sends to another node carries the chain of waits above
// it: every actor that waits, through Requests, on the one sending, oldest
// first, with the sender's own wait last. The receiving actor's Requests
// inherit the chain, and their own Requests to other nodes extend it. A
// Request closes a cycle when its target is an actor of the chain; the
// node of that target checks that the target still waits on that very
// Request (its wait's Stamp, which the chain carries, identifies it
// there), so a chain made stale by a caller that gave up never reports a
// cycle that no longer is one. The check runs where the target lives: on
// receipt of a Request from another node, or at a Request to a local
// actor whose chain came from another node. An actor busy with a message
// nobody waits on starts its chain with the wait of a caller from another
// node whose Request is queued for it (queue).
//
// The chain travels as one more pair of the envelope's trace context
// (waitsKey), so the envelope's layout and version do not change and a
// node that does not know the key ignores it. It costs a Request to
// another node, while cycles are watched, about 80 bytes per wait on the
// wire (82 for a wait of "notes" on node "node-7f3a" for
// "*actors.HTTPRequest") and its encoding; a local Request pays a few
// field reads for its parent. The pair is bounded like every trace value: a
// chain longer than maxWireString bytes once encoded (12 such waits)
// keeps its newest waits, and a cycle through the dropped ones is not
// found.

// waitsKey is the trace-context key of a Request's chain of waits.
const waitsKey = "troupe-waits"

// maxChainHops bounds a decoded chain (a corrupt one cannot make the
// decoder allocate much); an encoded wait takes at least 5 bytes.
const maxChainHops = maxWireString / 5

// waitHop is one wait of a chain: an actor on some node waiting inside
// Receive for the reply to a Request of msg.
type waitHop struct {
	from wireAddr
	msg  string
	// since is when the wait began, Unix nanoseconds, for the report;
	// stamp is the Stamp its node took then, which identifies the wait
	// there.
	since int64
	stamp Stamp
}

// waitChain is the waits above a message that came from another node,
// oldest first; the last is its sender's.
type waitChain struct{ hops []waitHop }

// noteAbove records who waits on the message env, before Receive takes it:
// the wait of the local actor whose Request it is, or the chain a Request
// from another node brought. The actor's Requests inherit it. It is noted
// on the actor's goroutine before Receive and only read during it, so a
// Request made from a goroutine Receive started reads it safely; whether
// each wait above still waits is checked where it matters (chain, and the
// node a cycle closes on).
func (o *observed) noteAbove(env *envelope, reqCtx context.Context) {
	o.parent, o.above = nil, nil
	if r := env.req; r != nil {
		if w := r.wait; w != nil {
			o.parent, o.above = w, w.above
		}
		return
	}
	if in, ok := reqCtx.(*inbound); ok && in.isRequest() {
		o.above = in.waits()
		if ch := o.above; ch != nil && len(ch.hops) > 0 {
			o.queued.CompareAndSwap(&ch.hops[len(ch.hops)-1], nil) // its turn came
		}
	}
}

// queue notes, on receipt, that the sender of a Request from another node
// waits on this actor while the Request waits its turn. An actor busy with
// a message nobody waits on (a Send, a timer) has no chain of its own; if
// it now asks that sender, directly or through others, the chain its
// Request carries starts with this wait, and the sender's node finds the
// cycle there (chain). Only the last such Request is noted: a cycle
// through an earlier one still queued is not found. A wait that has ended
// since is harmless: its node's stamp check sees it.
func (o *observed) queue(in *inbound) {
	if ch := in.waits(); ch != nil && len(ch.hops) > 0 {
		o.queued.Store(&ch.hops[len(ch.hops)-1])
	}
}

// waits returns the chain of waits the inbound's Request carried, decoded
// on first use; nil when it carried none, or a corrupt one. It is called
// on receipt, before delivery, and by the receiving actor's goroutine
// before Receive, never at once.
func (in *inbound) waits() *waitChain {
	if !in.waitsRead {
		in.waitsRead = true
		for i := 0; i+1 < len(in.trace); i += 2 {
			if in.trace[i] == waitsKey {
				in.chain, _ = decodeWaits(in.trace[i+1])
			}
		}
	}
	return in.chain
}

// chain is e's waits, oldest first, e last: its chain from other nodes
// and the local waits between, as long as each still waits on the one
// below it.
func (e *waitEdge) chain(c *cluster) []waitHop {
	var local []*waitEdge
	top := e
	for p := e.parent; p != nil && len(local) < maxCycleHops && p.from.obs.waiting.Load() == p; p = p.parent {
		local, top = append(local, p), p
	}
	var above []waitHop
	switch {
	case top.parent != nil: // a wait above top ended: the rest is stale
	case top.above != nil:
		above = top.above.hops
	default:
		// Nobody waits on the message top's actor is handling; a caller
		// from another node whose Request is queued for it waits on the
		// actor all the same (queue).
		if q := top.from.obs.queued.Load(); q != nil {
			above = []waitHop{*q}
		}
	}
	hops := make([]waitHop, 0, len(above)+len(local)+1)
	hops = append(hops, above...)
	for i := len(local) - 1; i >= 0; i-- {
		hops = append(hops, local[i].hop(c))
	}
	return append(hops, e.hop(c))
}

// hop is e as a wait of a chain.
func (e *waitEdge) hop(c *cluster) waitHop {
	return waitHop{from: c.localAddr(e.from), msg: typeName(e.msg), since: e.since.Time().UnixNano(), stamp: e.since}
}

// waitsPair returns the trace-context pair that carries e's chain on a
// Request to another node.
func (c *cluster) waitsPair(e *waitEdge) []string {
	return []string{waitsKey, encodeWaits(e.chain(c))}
}

// encodeWaits encodes hops, keeping the newest that fit in a trace value.
// Layout: uvarint count, then per wait its node, id and name (as in an
// envelope), message type, and varint since and stamp; base64 (URL,
// unpadded), since a trace value is text.
func encodeWaits(hops []waitHop) string {
	limit := base64.RawURLEncoding.DecodedLen(maxWireString) - binary.MaxVarintLen64
	var b []byte
	starts := make([]int, len(hops))
	for i := range hops {
		starts[i] = len(b)
		h := &hops[i]
		b = appendAddr(b, &h.from)
		b = appendString(b, h.msg)
		b = binary.AppendVarint(b, h.since)
		b = binary.AppendVarint(b, int64(h.stamp))
	}
	first := 0
	for first < len(hops) && len(b)-starts[first] > limit {
		first++
	}
	out := binary.AppendUvarint(nil, uint64(len(hops)-first))
	if first < len(hops) {
		out = append(out, b[starts[first]:]...)
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// decodeWaits decodes a chain encodeWaits made. The value comes from
// another node, untrusted: a corrupt one is an error, never a panic.
func decodeWaits(v string) (*waitChain, error) {
	if len(v) > maxWireString {
		return nil, fmt.Errorf("%w: chain of waits of %d bytes", errWireMalformed, len(v))
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: chain of waits: %v", errWireMalformed, err)
	}
	d := wireDecoder{b: b}
	n := d.uvarint()
	if n > maxChainHops {
		return nil, fmt.Errorf("%w: chain of %d waits", errWireMalformed, n)
	}
	ch := &waitChain{hops: make([]waitHop, n)}
	for i := range ch.hops {
		h := &ch.hops[i]
		d.addr(&h.from)
		h.msg = d.str()
		h.since = d.varint()
		h.stamp = Stamp(d.varint())
	}
	switch {
	case d.err != nil:
		return nil, d.err
	case len(d.b) != 0:
		return nil, fmt.Errorf("%w: %d bytes after the chain of waits", errWireMalformed, len(d.b))
	}
	return ch, nil
}

// checkAbove reports the cycle e closes on a local actor that waits, up
// the chain e inherited from another node, on a Request that led to e.
func (d *cycleDetector) checkAbove(s *System, e *waitEdge) *cycleState {
	c, to := s.cluster.Load(), e.to.Load()
	if c == nil || to == nil {
		return nil // a Request to another node is checked there, on receipt
	}
	hops := e.chain(c)
	return d.closeOn(s, c, hops[:len(hops)-1], hops[len(hops)-1], to, e)
}

// atReceipt reports the cycle a Request from another node closes on its
// local target p: p waits, up the chain the Request carried, on a Request
// that led to it. It runs on receipt, before delivery.
func (d *cycleDetector) atReceipt(c *cluster, in *inbound, p *process) *cycleState {
	ch := in.waits()
	if ch == nil || len(ch.hops) == 0 || p.obs == nil {
		return nil
	}
	return d.closeOn(c.sys, c, ch.hops[:len(ch.hops)-1], ch.hops[len(ch.hops)-1], p, nil)
}

// closeOn reports the cycle that the wait last closes on target, a local
// actor, if target is one of above and still waits on the Request it
// waited on there. e is last's edge when it is a wait of this node.
func (d *cycleDetector) closeOn(s *System, c *cluster, above []waitHop, last waitHop, target *process, e *waitEdge) *cycleState {
	i := len(above) - 1
	for ; i >= 0; i-- {
		if h := &above[i]; h.from.node == c.node && h.from.id == target.id {
			break
		}
	}
	if i < 0 {
		return nil
	}
	w := target.obs.waiting.Load()
	if w == nil || w.since != above[i].stamp {
		return nil // it no longer waits there: the chain is stale
	}
	hops := append(append(make([]waitHop, 0, len(above)-i+1), above[i:]...), last)
	st := &cycleState{c: Cycle{Detected: time.Now(), Hops: make([]CycleHop, len(hops))}}
	for j, h := range hops {
		st.c.Hops[j] = CycleHop{From: c.senderRef(h.from), Message: h.msg, Since: time.Unix(0, h.since)}
		if j > 0 {
			st.c.Hops[j-1].To = st.c.Hops[j].From
		}
	}
	st.c.Hops[len(hops)-1].To = target.ref()
	edges := []*waitEdge{w}
	for p := e; p != nil; p = p.parent {
		if p.from.obs.waiting.Load() == p {
			edges = append(edges, p)
		}
	}
	return d.mark(s, st, edges)
}
