package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// follower keeps a watch on a KV bucket and hands every entry to a
// callback on one goroutine, with a tick beside it. A watch is an ordered
// consumer that does not reliably survive a restart of its server (nor
// the bucket's loss with a memory store), so after every reconnection the
// follower starts a fresh watch, which replays the live entries: a
// restarted NATS costs one replay, never a silently dead mirror.
type follower struct {
	c       *cluster
	kv      jetstream.KeyValue
	every   time.Duration
	onEntry func(jetstream.KeyValueEntry)
	onTick  func()
	stop    chan struct{}
	done    chan struct{}
}

// follow starts following kv; the first watch must start, later ones are
// retried every tick.
func (c *cluster) follow(ctx context.Context, kv jetstream.KeyValue, every time.Duration, onEntry func(jetstream.KeyValueEntry), onTick func()) (*follower, error) {
	f := &follower{c: c, kv: kv, every: every, onEntry: onEntry, onTick: onTick, stop: make(chan struct{}), done: make(chan struct{})}
	reconnects := c.nc.Stats().Reconnects
	// The watch lives as long as the cluster: a subscription ends with the
	// context it was made with, and ctx (the join's) is over soon.
	w, err := kv.WatchAll(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("actors: cluster: watching %s: %w", kv.Bucket(), err)
	}
	if err := ctx.Err(); err != nil {
		_ = w.Stop()
		return nil, err
	}
	go f.run(w, reconnects)
	return f, nil
}

func (f *follower) run(w jetstream.KeyWatcher, reconnects uint64) {
	defer close(f.done)
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	defer func() { stopWatch(w) }()
	var updates <-chan jetstream.KeyValueEntry
	if w != nil {
		updates = w.Updates()
	}
	for {
		select {
		case <-f.stop:
			return
		case e, ok := <-updates:
			if !ok {
				w, updates = nil, nil // started again at the next tick
				continue
			}
			if e != nil {
				f.onEntry(e)
			}
		case <-tick.C:
			f.onTick()
			if now := f.c.nc.Stats().Reconnects; now != reconnects || w == nil {
				stopWatch(w)
				reconnects = now
				if w, _ = f.kv.WatchAll(f.c.ctx); w != nil {
					updates = w.Updates()
				} else {
					updates = nil
				}
			}
		}
	}
}

// stopWatch stops w and drains what it still delivers: its subscription's
// callback blocks on a full channel, and would never see the stop. Stop
// deletes the watch's consumer, a JetStream request that, without a
// quorum (a cluster stopping node by node), waits nats.go's 5 s timeout:
// it runs on its own goroutine, which outlives stopWatch by at most that,
// so a node's stop is not held up by it.
func stopWatch(w jetstream.KeyWatcher) {
	if w == nil {
		return
	}
	go func() { _ = w.Stop() }()
	timeout := time.After(time.Second)
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

// close stops the follower and waits for its goroutine.
func (f *follower) close() {
	close(f.stop)
	<-f.done
}
