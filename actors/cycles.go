package actors

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
)

// ErrCycle reports a Request that would have closed a request cycle — an
// actor waiting, through others, on itself — failed at once instead of
// waiting for its deadline (WithCycleDetection(true)). The concrete error
// is a *CycleError.
var ErrCycle = errors.New("actors: request cycle")

// CycleError is the error of a Request failed because it closed a cycle.
type CycleError struct {
	// Cycle is the cycle the Request would have closed; its last hop is
	// the failed Request.
	Cycle Cycle
}

// Error names the actors of the cycle.
func (e *CycleError) Error() string { return "actors: request cycle: " + e.Cycle.String() }

// Is makes errors.Is(err, ErrCycle) true.
func (e *CycleError) Is(target error) bool { return target == ErrCycle }

// Cycle is a request cycle: each hop's From waits inside Receive for the
// reply of its To, and the last hop's To is the first hop's From, so none
// of them can answer until a deadline passes. An actor waits on the actor
// its Request was delivered (or forwarded) to; Requests from outside the
// System wait on nobody's Receive and never close a cycle.
type Cycle struct {
	// ID numbers the cycles of a System, from 1.
	ID uint64
	// Hops are the waits in request order; the last is the Request that
	// closed the cycle, the innermost.
	Hops []CycleHop
	// Detected is when the last hop closed the cycle.
	Detected time.Time
	// Resolved is when the first of its waits ended, zero while all wait.
	Resolved time.Time
	// Resolution says how that wait ended: "failed fast" (ErrCycle),
	// "timed out", "answered", or the error that ended it.
	Resolution string
}

// CycleHop is one wait of a Cycle.
type CycleHop struct {
	From, To Ref
	// Message is the type of the message From waits on an answer to.
	Message string
	// Since is when From began to wait.
	Since time.Time
}

// String lists the cycle's actors: "a#1 → b#2 → a#1".
func (c Cycle) String() string {
	var b strings.Builder
	for i, h := range c.Hops {
		if i == 0 {
			b.WriteString(h.From.String())
		}
		b.WriteString(" → ")
		b.WriteString(h.To.String())
	}
	return b.String()
}

// WithCycleDetection makes the System watch the Requests actors make from
// inside Receive for request cycles: each is reported to the Observer
// (WithObserver) when the Request that closes it is made, and again when
// it resolves. With failFast that Request — the innermost — fails at once
// with a *CycleError (ErrCycle) instead of waiting for its deadline, which
// resolves the cycle. It costs an actor's Request an allocation, two
// atomic stores and a walk along the chain of waiting actors it joins,
// usually one load.
//
// In a cluster, a Request an actor sends to another node carries the
// waits above it (cycles_remote.go), so a cycle through several nodes is
// found on the node where it closes, once that node has checked that the
// actor it closes on still waits. The Systems of every node need
// WithCycleDetection for that; failFast is each node's own.
func WithCycleDetection(failFast bool) Option {
	return func(s *System) {
		startClock()
		s.cycles = &cycleDetector{failFast: failFast}
	}
}

// maxCycleHops bounds a walk along waiting actors: a chain longer than
// this is not followed to its end (a request chain of 1,024 actors would
// be a bug of its own).
const maxCycleHops = 1024

// cycleDetector finds request cycles while they wait.
type cycleDetector struct {
	failFast bool
	nextID   atomic.Uint64
}

// waitEdge is one actor waiting on another inside Receive.
type waitEdge struct {
	from *process
	// to is the actor of this node from waits on: the one its Request went
	// (or was forwarded) to, or a sharded entity's activation here (set
	// again by the delivery when it starts one); nil for another node's.
	to    atomic.Pointer[process]
	msg   reflect.Type
	since Stamp // also identifies the wait on this node (cycles_remote.go)
	// parent is the wait of the actor of this node whose Request from is
	// handling, when there is one; above is the chain of waits a Request
	// from another node brought to from or to one of its parents, oldest
	// first. Both are set before the edge is published and never change.
	parent *waitEdge
	above  *waitChain
	cycle  atomic.Pointer[cycleState] // the cycle it is part of, once detected
}

// cycleState is a detected cycle and whether its end was reported.
type cycleState struct {
	c        Cycle
	resolved atomic.Bool
}

// request is System.request for an actor's Request while cycles are
// watched: from waits on to while await waits.
func (d *cycleDetector) request(ctx context.Context, s *System, from *process, to Ref, msg any, r *request) (any, error) {
	e := &waitEdge{from: from, msg: reflect.TypeOf(msg), since: stamp()}
	e.aim(to)
	e.parent, e.above = from.obs.parent, from.obs.above
	r.wait = e
	// Store, then walk: of two requests closing a cycle at once, at least
	// one sees the other's edge.
	from.obs.waiting.Store(e)
	st := d.check(s, e)
	if st == nil && e.above != nil {
		st = d.checkAbove(s, e)
	}
	if st != nil && d.failFast {
		from.obs.waiting.Store(nil)
		r.ctx, r.wait = nil, nil
		requestPool.Put(r)
		d.resolve(s, st, "failed fast")
		return nil, &CycleError{Cycle: st.c}
	}
	v, err := s.await(ctx, from, to, msg, r)
	from.obs.waiting.Store(nil)
	if st := e.cycle.Load(); st != nil {
		d.resolve(s, st, resolution(err))
	}
	return v, err
}

// forwarded moves the wait of r's caller, if an actor still waits on it,
// to the actor r is being forwarded to, and checks whether that closes a
// cycle. It reports whether it failed r fast, in which case the forward
// must not be delivered. It runs before the delivery, while r cannot have
// been answered.
func (d *cycleDetector) forwarded(s *System, r *request, to Ref) bool {
	e := r.wait
	if e == nil || e.from.obs.waiting.Load() != e {
		return false
	}
	e.aim(to)
	if st := d.check(s, e); st != nil && d.failFast {
		r.complete(nil, &CycleError{Cycle: st.c})
		return true
	}
	return false
}

// aim points e at the actor its Request went to (waitedOn);
// entitySlot.deliver points it at an entity's activation the Request
// itself starts.
func (e *waitEdge) aim(to Ref) { e.to.Store(waitedOn(to.ep)) }

// waitedOn is the local process a message for ep reaches: the actor, or
// a sharded entity's activation here (nil before it is activated); nil
// for an actor of another node.
func waitedOn(ep endpoint) *process {
	var e *entityRef
	switch ep := ep.(type) {
	case *process:
		return ep
	case *entityRef:
		e = ep
	case entityHere:
		e = ep.entityRef
	default:
		return nil
	}
	if sl := e.local(); sl != nil {
		return sl.p
	}
	return nil
}

// check walks from e's target along waiting actors and, if the walk comes
// back to e's waiter, reports the cycle.
func (d *cycleDetector) check(s *System, e *waitEdge) *cycleState {
	if edges := walk(e); edges != nil {
		return d.found(s, edges)
	}
	return nil
}

// walk follows the waits from e's target and returns the edges of the
// cycle, e last, when they lead back to e's waiter; nil when they end
// elsewhere. The slice is only made for a cycle.
func walk(e *waitEdge) []*waitEdge {
	var edges []*waitEdge
	for pass := range 2 {
		cur := e.to.Load()
		for range maxCycleHops {
			if cur == e.from {
				if pass == 1 {
					return append(edges, e)
				}
				edges = make([]*waitEdge, 0, 4)
				break
			}
			if cur == nil || cur.obs == nil {
				return nil
			}
			w := cur.obs.waiting.Load()
			if w == nil {
				return nil
			}
			if pass == 1 {
				edges = append(edges, w)
			}
			cur = w.to.Load()
		}
		if edges == nil {
			return nil // longer than maxCycleHops, or a cycle e is not part of
		}
	}
	return nil
}

// found records the cycle of edges and reports it, unless the other side
// of a race reported it first.
func (d *cycleDetector) found(s *System, edges []*waitEdge) *cycleState {
	st := &cycleState{c: Cycle{Detected: time.Now(), Hops: make([]CycleHop, len(edges))}}
	for i, w := range edges {
		st.c.Hops[i] = CycleHop{From: w.from.ref(), To: w.to.Load().ref(), Message: typeName(w.msg), Since: w.since.Time()}
	}
	return d.mark(s, st, edges)
}

// mark numbers the cycle st, records it on edges — its waits on this
// node — and reports it, unless the other side of a race reported it
// first, in which case it returns that one.
func (d *cycleDetector) mark(s *System, st *cycleState, edges []*waitEdge) *cycleState {
	st.c.ID = d.nextID.Add(1)
	for i, w := range edges {
		if !w.cycle.CompareAndSwap(nil, st) {
			for _, v := range edges[:i] {
				v.cycle.CompareAndSwap(st, nil)
			}
			return w.cycle.Load() // already reported
		}
	}
	if ob := s.observe; ob != nil {
		ob.o.Cycle(st.c)
	}
	return st
}

// resolve reports the end of a cycle, once: its first wait ended, how.
func (d *cycleDetector) resolve(s *System, st *cycleState, how string) {
	if !st.resolved.CompareAndSwap(false, true) {
		return
	}
	c := st.c
	c.Resolved, c.Resolution = time.Now(), how
	if ob := s.observe; ob != nil {
		ob.o.Cycle(c)
	}
}

// resolution describes how a wait of a cycle ended.
func resolution(err error) string {
	switch {
	case err == nil:
		return "answered"
	case errors.Is(err, ErrTimeout):
		return "timed out"
	}
	return err.Error()
}

// typeName is the name of a message type, "<nil>" for none.
func typeName(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	return t.String()
}
