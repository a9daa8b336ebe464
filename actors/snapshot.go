package actors

import "iter"

// Actor states, the ActorInfo.State values.
const (
	// StateIdle: nothing queued, no goroutine.
	StateIdle = "idle"
	// StateRunning: processing messages, or about to.
	StateRunning = "running"
	// StateWaiting: inside Receive, waiting for the reply to a Request
	// (known only with WithCycleDetection).
	StateWaiting = "waiting"
	// StateRestarting: failed, waiting out its backoff before a restart.
	StateRestarting = "restarting"
	// StateStopping: stopping, its children and queue going first.
	StateStopping = "stopping"
)

// ActorInfo is a live actor as an inspector shows it.
type ActorInfo struct {
	Ref Ref
	// Parent is the supervising actor, the zero Ref at the top level.
	Parent Ref
	// Depth is the level in the supervision tree, 0 at the top.
	Depth int
	// Mailbox is the number of messages queued, Capacity its bound.
	Mailbox, Capacity int
	Overflow          OverflowPolicy
	State             string
	// WaitingOn is the actor it waits on (StateWaiting), else the zero Ref.
	WaitingOn Ref
	Children  int
}

// Actors returns the live actors, depth first: each parent before its
// children, children in spawn order. Each actor is locked briefly while
// it is read, never the whole System, so a snapshot of a busy System is
// not atomic.
func (s *System) Actors() iter.Seq[ActorInfo] {
	return func(yield func(ActorInfo) bool) {
		s.walkInfo(s.root, Ref{}, 0, yield)
	}
}

func (s *System) walkInfo(parent *process, pref Ref, depth int, yield func(ActorInfo) bool) bool {
	for _, p := range parent.children() {
		info, live := p.info()
		if !live {
			continue
		}
		info.Parent, info.Depth = pref, depth
		if !yield(info) || !s.walkInfo(p, p.ref(), depth+1, yield) {
			return false
		}
	}
	return true
}

// info reads p's state; live is false once it has terminated.
func (p *process) info() (info ActorInfo, live bool) {
	info = ActorInfo{Ref: p.ref(), Capacity: p.mb.capacity, Overflow: p.mb.policy, State: StateIdle}
	p.mu.Lock()
	switch {
	case p.terminated:
		p.mu.Unlock()
		return info, false
	case p.closed || p.terminating:
		info.State = StateStopping
	case p.sup.backoff != nil:
		info.State = StateRestarting
	}
	info.Children = len(p.sup.children)
	p.mu.Unlock()
	p.mb.mu.Lock()
	info.Mailbox = p.mb.q.n
	running := p.mb.running
	p.mb.mu.Unlock()
	if info.State == StateIdle && running {
		info.State = StateRunning
	}
	if p.obs != nil && info.State == StateRunning {
		if w := p.obs.waiting.Load(); w != nil {
			info.State, info.WaitingOn = StateWaiting, w.to.Load().ref()
		}
	}
	return info, true
}
