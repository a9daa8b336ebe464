package lease

import (
	"context"
	"sync"
	"time"
)

// Keeper renews a set of leases of one bucket every TTL/3 on one
// goroutine, so an owner misses two renewals before its lease nears
// expiry. A renewal that fails is reported to the owner's callback, which
// decides: reacquire, give up, or wait for the next round (a disconnection
// does not end a lease before its ValidUntil).
type Keeper struct {
	b      *Bucket
	every  time.Duration
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	leases map[*Lease]func(error)
}

// NewKeeper starts renewing the leases added to it.
func (b *Bucket) NewKeeper() *Keeper {
	k := &Keeper{
		b:      b,
		every:  b.ttl / 3,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		leases: make(map[*Lease]func(error)),
	}
	go k.run()
	return k
}

// Add renews l from now on; onFail is called on the Keeper's goroutine
// with each renewal's error.
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

// Close stops the Keeper and waits for its goroutine.
func (k *Keeper) Close() {
	close(k.stop)
	<-k.done
}

func (k *Keeper) run() {
	defer close(k.done)
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			k.renewAll()
		}
	}
}

// renewAll renews every lease, each bounded by one period so a hung
// request cannot delay the next round.
func (k *Keeper) renewAll() {
	k.mu.Lock()
	batch := make(map[*Lease]func(error), len(k.leases))
	for l, f := range k.leases {
		batch[l] = f
	}
	k.mu.Unlock()
	for l, onFail := range batch {
		select {
		case <-k.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), k.every)
		err := l.Renew(ctx)
		cancel()
		if err != nil && k.has(l) {
			onFail(err)
		}
	}
}

func (k *Keeper) has(l *Lease) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.leases[l]
	return ok
}
