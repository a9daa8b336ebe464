package wasm

import (
	"sync/atomic"

	"github.com/troupehq/troupe/actors"
)

// poolRouter is the actor of a stateless component with
// runtime.max_cpu_cores = N > 1: it owns N worker children, each running
// its own instance, and forwards every message (with its sender and pending
// Request, so the worker's reply goes straight to the caller) to an idle
// worker, else to the least loaded one. Load is counted per worker: +1 when
// forwarded, -1 when the worker has handled it, so the router never waits
// for a worker. Workers' instances see the router as self, so replies to
// their sends and their subscriptions come back through the pool.
//
// A failing worker is restarted alone (one-for-one) with a fresh instance;
// the others keep serving. The pool size is fixed when the actor starts: a
// hot reload changing max_cpu_cores takes effect at the next Spawn.
type poolRouter struct {
	c       *Component
	loads   []atomic.Int64
	workers []actors.Ref
}

// Receive implements actors.Actor.
func (p *poolRouter) Receive(ctx *actors.Context, msg any) {
	switch msg.(type) {
	case actors.Started:
		p.spawnWorkers(ctx)
	case actors.Restarting:
		p.workers = p.workers[:0] // the System stopped them
	case actors.Stopping, actors.Stopped:
	default:
		i := p.pick()
		p.loads[i].Add(1)
		if err := ctx.Forward(p.workers[i]); err != nil {
			p.loads[i].Add(-1)
			ctx.Respond(err)
		}
	}
}

func (p *poolRouter) spawnWorkers(ctx *actors.Context) {
	m := p.c.Manifest()
	for i := range p.loads {
		p.loads[i].Store(0)
		w, err := ctx.SpawnActor("", &componentActor{c: p.c, self: ctx.Self(), load: &p.loads[i]},
			metricsOptions(m, actors.WithMailboxSize(m.Runtime.MessageQueueSize),
				actors.WithKind("wasm:"+p.c.name+":worker"), actors.WithDedicatedGoroutine())...)
		if err != nil {
			panic(err)
		}
		p.workers = append(p.workers, w)
	}
}

// pick returns the first idle worker, else the least loaded.
func (p *poolRouter) pick() int {
	best, bestLoad := 0, int64(-1)
	for i := range p.workers {
		l := p.loads[i].Load()
		if l == 0 {
			return i
		}
		if bestLoad < 0 || l < bestLoad {
			best, bestLoad = i, l
		}
	}
	return best
}
