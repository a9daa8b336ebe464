package actors

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

// closedChan is returned by Done for actors that have already terminated.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// process is one local actor, in named parts: its identity, its mailbox
// (mailbox.go), its place in the supervision tree (supervision.go), the
// state its drain goroutine owns (drain.go), and its lifecycle — stopping,
// terminated — with the timers and subscriptions that end with it
// (lifecycle.go). It has no goroutine while idle, and it is the local
// endpoint of a Ref.
type process struct {
	address
	sys *System
	// stopReq is set once a hard Stop was requested.
	stopReq atomic.Bool
	// obs is what an Observer needs of this actor (observe.go); nil when
	// the System has none.
	obs *observed
	// The order of the parts is deliberate: what the drain goroutine reads
	// for every message (the fields above, drain and mb's interrupt) lies
	// apart from the mailbox's lock and queue, which senders write for every
	// message, so the two never share a cache line. Sharing one cost Send
	// 1→1 a third of its throughput; TestProcessLayout pins it.
	drain drain
	sup   supervision
	mb    mailbox

	mu          sync.Mutex // guards the fields below and sup's children and backoff
	closed      bool       // stopping: no new children, timers or subscriptions
	terminating bool
	terminated  bool
	abortCh     chan struct{} // closed on Stop: ends this actor's own Requests
	doneCh      chan struct{} // closed on termination; lazily made by Done
	timers      map[*Timer]struct{}
	subs        []string
}

// drain is what only the actor's drain goroutine touches: the instance and
// the Context its Receive gets, and where the goroutine stands.
type drain struct {
	actor    Actor
	producer Producer // nil for an actor spawned by value
	cx       Context
	// wake is non-nil for an actor spawned WithDedicatedGoroutine: a
	// sender wakes its parked drain goroutine instead of starting one.
	wake      chan struct{}
	noTiming  bool // WithoutProcessingMetrics
	suspended bool // failed, waiting for its restart: user messages wait
	ended     bool // terminate ran: the drain goroutine must exit
	logger    *slog.Logger
}

func (p *process) ref() Ref {
	if p == nil {
		return Ref{}
	}
	return Ref{ep: p}
}

// poison queues the in-band stop queued by Poison and Shutdown.
func (p *process) poison() error { return p.mb.putPoison(p) }

// stop asks for a hard stop (see requestStop).
func (p *process) stop() bool { return p.requestStop() }

// done returns a channel closed when the actor has terminated.
func (p *process) done() <-chan struct{} { return p.doneChan() }

func (p *process) addr() *address { return &p.address }

// enqueueSys queues a system message.
func (p *process) enqueueSys(m sysMsg) { p.mb.putSys(p, m) }

// startDrain starts the drain goroutine for work just queued; the mailbox
// calls it exactly once per idle period.
func (p *process) startDrain() {
	if p.drain.wake != nil {
		p.drain.wake <- struct{}{} // capacity 1, and only one wake per idle period
		return
	}
	go p.run()
}

// parked is the drain goroutine of an actor spawned WithDedicatedGoroutine:
// it sleeps between bursts of work instead of exiting, so the stack it grew
// once (a WASM call needs tens of KiB) is kept rather than grown again for
// every burst.
func (p *process) parked() {
	for range p.drain.wake {
		p.run()
		if p.drain.ended {
			return
		}
	}
}
