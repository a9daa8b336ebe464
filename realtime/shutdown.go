package realtime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Shutdown timings.
const (
	// reconnectSpread bounds the random delay each client is told to wait
	// before reconnecting, so that the clients of an instance going away do
	// not all land on the others in the same second.
	reconnectSpread = 5 * time.Second
	// goAwayWorkers bounds the close handshakes in flight at once: each
	// waits up to closeGrace for its client, and a goroutine per connection
	// would cost a stack per connection at the worst moment.
	goAwayWorkers = 256
	// forceWait bounds the wait for readers to finish once the remaining
	// sockets are closed; closing a socket wakes its reader at once.
	forceWait = 5 * time.Second
)

// Shutdown stops admitting upgrades (503 from now on), tells every
// connection to go away — a reconnect message with a random delay under
// five seconds, then close 1001 — and waits for them to close, until ctx
// ends or ShutdownTimeout passes. Connections still open then are closed
// without more ado. It returns nil once every connection has closed, and
// is safe to call more than once. Room actors stop with the actor system.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if !h.closing {
		h.closing = true
		if h.reserved == 0 {
			close(h.drained)
		}
	}
	conns := h.snapshot()
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ShutdownTimeout)
	defer cancel()
	h.goAway(ctx, conns)
	select {
	case <-h.drained:
		return nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	rest := h.snapshot()
	h.mu.Unlock()
	for _, c := range rest {
		c.markClosed(reasonShutdown, closeGoingAway)
		c.t.abort()
	}
	select {
	case <-h.drained:
		return nil
	case <-time.After(forceWait):
		return fmt.Errorf("realtime: %d connections still open after shutdown", h.Connections())
	}
}

// snapshot lists the open connections; the caller holds h.mu.
func (h *Hub) snapshot() []*conn {
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// goAway closes conns gracefully with at most goAwayWorkers handshakes at
// once, until ctx ends.
func (h *Hub) goAway(ctx context.Context, conns []*conn) {
	work := make(chan *conn)
	var wg sync.WaitGroup
	for range min(goAwayWorkers, len(conns)) {
		wg.Go(func() {
			for c := range work {
				if c.beginClose(reasonShutdown, closeGoingAway) {
					c.t.goAway(rand.N(reconnectSpread))
				}
			}
		})
	}
feed:
	for _, c := range conns {
		select {
		case work <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}
