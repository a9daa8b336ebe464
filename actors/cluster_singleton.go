package actors

import (
	"errors"
	"time"
)

// errSingleton is Spawn's error for a singleton it cannot keep: one
// without a name, or a child (the cluster keeps top-level actors only).
var errSingleton = errors.New("actors: WithSingleton needs a top-level actor with a name")

// spawnSingleton starts a cluster singleton: it spawns the actor here if
// the name's lease is free, and in any case keeps a goroutine that takes
// the name over whenever it is free again (see WithSingleton). A node
// leaving releases or ages out its lease like any name's, so no state of
// its own is needed: the lease is the singleton's only owner record.
func (c *cluster) spawnSingleton(parent *process, name string, prod Producer, a Actor, opts []SpawnOption) (Ref, error) {
	if name == "" || parent != c.sys.root {
		return Ref{}, errSingleton
	}
	var sc spawnConfig
	for _, o := range opts {
		o(&sc)
	}
	sc.singleton = false
	ref, err := c.sys.spawnWith(parent, name, prod, a, &sc)
	var taken *NameTakenError
	switch {
	case err == nil:
	case errors.As(err, &taken), errors.Is(err, ErrUnavailable):
		// Standing by: another node runs it, or NATS is down for now.
		ref, _ = c.sys.Lookup(name)
	default:
		return Ref{}, err
	}
	running := ref
	if running.Node() != c.node {
		running = Ref{}
	}
	if !c.background(func() { c.keepSingleton(name, prod, a, &sc, running) }) {
		return Ref{}, ErrStopped
	}
	return ref, nil
}

// keepSingleton waits for the local instance, if any, to end, then
// tries to start the singleton here whenever its name may be free, until
// the cluster is left or the System refuses spawns (it is shutting down).
func (c *cluster) keepSingleton(name string, prod Producer, a Actor, sc *spawnConfig, running Ref) {
	poll := leaseRetry(c.cfg.LeaseTTL)
	for {
		if !running.IsZero() {
			select {
			case <-running.ep.done():
			case <-c.ctx.Done():
				return
			}
		}
		select {
		case <-time.After(poll):
		case <-c.ctx.Done():
			return
		}
		if c.names.renewedElsewhere(name) {
			continue
		}
		conf := *sc
		conf.standby = true
		ref, err := c.sys.spawnWith(c.sys.root, name, prod, a, &conf)
		var taken *NameTakenError
		switch {
		case err == nil:
			c.logger.Info("singleton started on this node", "name", name)
			running = ref
		case errors.As(err, &taken), errors.Is(err, ErrUnavailable):
			running = Ref{}
		default:
			if !errors.Is(err, ErrStopped) {
				c.logger.Warn("singleton not started; no longer kept on this node", "name", name, "error", err)
			}
			return
		}
	}
}
