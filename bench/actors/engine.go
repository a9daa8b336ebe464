package main

import (
	"context"
	"fmt"
	"time"
)

// Engine is one actor runtime under test, reduced to the operations the
// workloads need. Each adapter uses its runtime idiomatically, with default
// settings unless its file says otherwise. An Engine is created fresh for
// every workload run and shut down after it, so no run inherits another's
// actors.
type Engine interface {
	// SpawnCounter spawns an actor that counts ping and value messages and
	// closes done when it has seen want of them.
	SpawnCounter(want int, done chan<- struct{}) (Actor, error)
	// SpawnEcho spawns an actor that answers every request with the message
	// it received.
	SpawnEcho() (Actor, error)
	// SpawnStop spawns n actors one after another, stopping each and waiting
	// until it has stopped before spawning the next.
	SpawnStop(n int) error
	// SpawnIdle spawns n actors that receive nothing and returns a function
	// that stops them all and waits until they have stopped. The adapter holds
	// only the runtime's own references, so memory measured around the call is
	// what a user holding n refs would pay.
	SpawnIdle(n int) (stopAll func() error, err error)
	// Shutdown releases the runtime.
	Shutdown() error
}

// Actor is a handle on a spawned actor.
type Actor interface {
	// Send delivers msg without waiting for it to be processed.
	Send(msg any) error
	// Request makes one round trip with probe under ctx and returns the
	// reply. The engines whose request API takes a timeout instead use
	// requestTimeout.
	Request(ctx context.Context, probe *probe) (any, error)
	// RequestWithin makes one round trip with probe bounded by timeout, the
	// way the engine's API expresses a per-call deadline: a fresh
	// context.WithTimeout for Troupe, the timeout argument for the others.
	RequestWithin(timeout time.Duration, probe *probe) (any, error)
	// Stop stops the actor and waits until it has stopped.
	Stop() error
	// Seen is the number of pings a counter processed (0 for other actors).
	// It is only safe to read after Stop, whose wait orders it after the
	// last Receive.
	Seen() int
}

// ping is the zero-size throughput message: boxing it in an interface
// allocates nothing, so the workload measures the runtime alone.
type ping struct{}

// value is the small-value throughput message: 16 bytes that vary per
// message, so boxing one in an interface costs every engine the same one
// allocation, as a real message does.
type value struct {
	seq uint64
	tag uint32
}

// Message makers for the throughput workloads: message i of a sender.
func makePing(int) any    { return ping{} }
func makeValue(i int) any { return value{seq: uint64(i), tag: 1} }

// isCounted reports whether a counter counts msg.
func isCounted(msg any) bool {
	switch msg.(type) {
	case ping, value:
		return true
	}
	return false
}

// probe is the request message; the echo returns the same pointer, which
// lets the harness check every reply cheaply.
type probe struct{ _ byte }

// tally is the state shared by every engine's counter actor.
type tally struct {
	seen, want int
	done       chan<- struct{}
}

// add counts one ping and signals done exactly when the last one arrives.
func (t *tally) add() {
	t.seen++
	if t.seen == t.want {
		close(t.done)
	}
}

// engineFactory names an engine and builds a fresh instance of it.
type engineFactory struct {
	name string
	new  func() (Engine, error)
}

// engines lists the runtimes in the order they take turns in every round.
var engines = []engineFactory{
	{"troupe", newTroupe},
	{"hollywood", newHollywood},
	{"protoactor", newProtoactor},
}

// checkReply reports a reply that is not the probe that was sent.
func checkReply(reply any, p *probe) error {
	if got, ok := reply.(*probe); !ok || got != p {
		return fmt.Errorf("reply %T %v is not the probe that was sent", reply, reply)
	}
	return nil
}
