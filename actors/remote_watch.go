package actors

import (
	"errors"
	"sync"
	"time"
)

// watchTable carries Done across nodes. The watching node asks the owner
// once per remote endpoint (kindWatch); the owner waits for the actor's
// end and tells the watcher's node (kindTerminated), which closes the
// endpoint's Done. A node that leaves the cluster ends the Done of every
// actor it held (membership), and so does this System's shutdown.
type watchTable struct {
	c      *cluster
	mu     sync.Mutex
	served map[watchKey]struct{} // owner side: (watcher node, actor) pairs waited on
	// held keeps the endpoints whose Done someone may wait on reachable
	// until they end: the ref table holds endpoints weakly, and a caller
	// may keep only the channel.
	held map[*remoteRef]struct{}
}

type watchKey struct {
	node string
	id   uint64
}

// watch asks r's owner to report r's end, retrying while the owner cannot
// be reached; an owner that answers ErrStopped ends Done at once.
func (t *watchTable) watch(r *remoteRef) {
	t.hold(r)
	c := t.c
	started := c.background(func() {
		for {
			rep, err := c.call(r, kindWatch, &request{ch: make(chan reply, 1)})
			switch {
			case err == nil && rep.err == nil:
				return // the owner reports the end
			case err == nil && errors.Is(rep.err, ErrStopped):
				r.terminated()
				return
			}
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(c.cfg.LeaseTTL / 3):
			}
		}
	})
	if !started {
		r.terminated()
	}
}

// hold keeps r reachable until it ends.
func (t *watchTable) hold(r *remoteRef) {
	t.mu.Lock()
	if t.held == nil {
		t.held = make(map[*remoteRef]struct{})
	}
	t.held[r] = struct{}{}
	t.mu.Unlock()
}

// unhold lets an ended endpoint go.
func (t *watchTable) unhold(r *remoteRef) {
	t.mu.Lock()
	delete(t.held, r)
	t.mu.Unlock()
}

// serve waits, on the owner's side, for p's end and reports it to the
// watcher's node, once per (node, actor).
func (t *watchTable) serve(p *process, watcher string) {
	key := watchKey{watcher, p.id}
	t.mu.Lock()
	if _, ok := t.served[key]; ok {
		t.mu.Unlock()
		return
	}
	if t.served == nil {
		t.served = make(map[watchKey]struct{})
	}
	t.served[key] = struct{}{}
	t.mu.Unlock()
	c := t.c
	c.background(func() {
		select {
		case <-p.doneChan():
			// Through the outbox, after what p sent that node before its end.
			w := wireMsg{kind: kindTerminated, from: wireAddr{node: c.node, id: p.id, name: p.name}}
			if bp, err := c.encode(&w, nil, nil, c.maxPayload-batchOverhead); err == nil {
				c.outboxFor(c.nodeSubject(watcher)).enqueue(*bp)
				putWireBuf(bp)
			}
		case <-c.ctx.Done():
		}
		t.mu.Lock()
		delete(t.served, key)
		t.mu.Unlock()
	})
}

// terminated closes the Done of the endpoint a kindTerminated names.
func (t *watchTable) terminated(w *wireMsg) {
	if r := t.c.refs.lookup(refKey{node: w.from.node, id: w.from.id}); r != nil {
		r.terminated()
	}
}

// background runs f on a goroutine that leave waits for; it reports false
// (and runs nothing) once the cluster is leaving.
func (c *cluster) background(f func()) bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.leaving {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}
