package lease

import (
	"context"
	"sync"
	"time"
)

// Keeper renews a set of leases of one bucket every TTL/3, so an owner
// misses two renewals before its lease nears expiry. A renewal that fails
// is reported to the owner's callback, which decides: reacquire, give up,
// or wait for the next round (a disconnection does not end a lease before
// its ValidUntil).
type Keeper struct {
	b      *Bucket
	every  time.Duration
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	leases map[*Lease]func(error)
}

// renewers bounds the renewals a Keeper has in flight. One at a time, a
// round took a write's latency per lease — a millisecond or more on a
// replicated bucket, so a node with a few thousand active entities could
// not renew them all within a TTL/3, and a renewal left unanswered during
// a leader election held every lease behind it for a whole period
// (BenchmarkKeeperRound in docs/benchmarks.md#sharded-entities has the
// figures).
const renewers = 64

// NewKeeper starts renewing the leases added to it.
func (b *Bucket) NewKeeper() *Keeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &Keeper{
		b:      b,
		every:  b.ttl / 3,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		leases: make(map[*Lease]func(error)),
	}
	go k.run()
	return k
}

// Add renews l from now on; onFail is called with each renewal's error,
// on a goroutine of the Keeper's; it should return within TTL/3.
func (k *Keeper) Add(l *Lease, onFail func(error)) {
	k.mu.Lock()
	k.leases[l] = onFail
	k.mu.Unlock()
}

// Remove stops renewing l.
func (k *Keeper) Remove(l *Lease) {
	k.mu.Lock()
	delete(k.leases, l)
	k.mu.Unlock()
}

// Close stops the Keeper and waits for its goroutines.
func (k *Keeper) Close() {
	k.cancel()
	<-k.done
}

func (k *Keeper) run() {
	defer close(k.done)
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-t.C:
			k.renewAll()
		}
	}
}

// renewAll renews every lease, up to renewers at once, the whole round
// bounded by one period so a hung request cannot delay the next round.
func (k *Keeper) renewAll() {
	k.mu.Lock()
	batch := make(map[*Lease]func(error), len(k.leases))
	for l, f := range k.leases {
		batch[l] = f
	}
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(k.ctx, k.every)
	defer cancel()
	slots := make(chan struct{}, renewers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for l, onFail := range batch {
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := l.Renew(ctx); err != nil && k.ctx.Err() == nil && k.has(l) {
				onFail(err)
			}
		})
	}
}

func (k *Keeper) has(l *Lease) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.leases[l]
	return ok
}
