package lease

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/troupehq/troupe/internal/natstest"
)

// ttl is short so expiry tests take a second, long enough that a loaded
// machine renews in time (every ttl/3).
const ttl = time.Second

func openBucket(t *testing.T, name string) (*Bucket, *Bucket) {
	t.Helper()
	s := natstest.Run(t)
	ctx := testCtx(t)
	var bs [2]*Bucket
	for i := range bs {
		js, err := jetstream.New(natstest.Connect(t, s))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(ctx, js, Config{Bucket: name, TTL: ttl, Storage: jetstream.MemoryStorage})
		if err != nil {
			t.Fatal(err)
		}
		bs[i] = b
	}
	return bs[0], bs[1]
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAcquireHeldRelease(t *testing.T) {
	a, b := openBucket(t, "held")
	ctx := testCtx(t)
	la, err := a.Acquire(ctx, "k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Acquire(ctx, "k", []byte("b"))
	var held *HeldError
	if !errors.As(err, &held) || string(held.Value) != "a" || !errors.Is(err, ErrHeld) {
		t.Fatalf("second Acquire = %v, want a *HeldError with the holder's value", err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.Acquire(ctx, "k", []byte("b"))
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("Renew by the old owner = %v, want ErrLost", err)
	}
	if err := la.Release(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("Release by the old owner = %v, want ErrLost (it must not delete b's lease)", err)
	}
	if e, err := b.Get(ctx, "k"); err != nil || string(e.Value) != "b" {
		t.Fatalf("Get = %q, %v; want b's value", e.Value, err)
	}
	if err := lb.Renew(ctx); err != nil {
		t.Fatalf("Renew by the owner: %v", err)
	}
}

// TestAcquireRaceOneWinner races many acquirers for one key, once on a
// fresh key and once on a key whose last write is a delete marker (Create
// reports that conflict differently).
func TestAcquireRaceOneWinner(t *testing.T) {
	a, b := openBucket(t, "race")
	ctx := testCtx(t)
	for round := range 2 {
		var wins atomic.Int32
		var wg sync.WaitGroup
		var winner *Lease
		var mu sync.Mutex
		for i := range 8 {
			bucket := a
			if i%2 == 1 {
				bucket = b
			}
			wg.Go(func() {
				l, err := bucket.Acquire(ctx, "k", []byte(strconv.Itoa(i)))
				switch {
				case err == nil:
					wins.Add(1)
					mu.Lock()
					winner = l
					mu.Unlock()
				case !errors.Is(err, ErrHeld):
					t.Errorf("round %d: Acquire: %v", round, err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d acquirers won, want exactly 1", round, n)
		}
		if err := winner.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnrenewedLeaseAgesOut is a SIGKILLed owner: it stops renewing, and
// another node acquires the key within the TTL (plus the server's expiry
// tick), but not before the owner's ValidUntil.
func TestUnrenewedLeaseAgesOut(t *testing.T) {
	a, b := openBucket(t, "ageout")
	ctx := testCtx(t)
	la, err := a.Acquire(ctx, "k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(la.ValidUntil()))
	if _, err := b.Acquire(ctx, "k", []byte("b")); !errors.Is(err, ErrHeld) {
		t.Fatalf("Acquire at the owner's ValidUntil = %v, want ErrHeld: fencing must end before expiry", err)
	}
	deadline := time.Now().Add(10 * ttl)
	for {
		_, err := b.Acquire(ctx, "k", []byte("b"))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrHeld) || time.Now().After(deadline) {
			t.Fatalf("the unrenewed lease did not age out: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("Renew after expiry and takeover = %v, want ErrLost", err)
	}
	var held *HeldError
	if err := la.Reacquire(ctx); !errors.As(err, &held) {
		t.Fatalf("Reacquire of a taken key = %v, want a *HeldError", err)
	}
}

// TestReacquireOwnLostWrite: a renewal whose answer was lost (it timed
// out on the client, as while the stream elects a new leader, but
// landed) leaves the owner's revision behind its own key. The next
// renewal reports ErrLost; Reacquire takes the key back instead of
// reporting it held by another owner, and renewals go on.
func TestReacquireOwnLostWrite(t *testing.T) {
	a, b := openBucket(t, "lostwrite")
	ctx := testCtx(t)
	la, err := a.Acquire(ctx, "k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	before := la.ValidUntil()
	la.mu.Lock()
	rev := la.rev
	la.mu.Unlock()
	if _, err := a.kv.Update(ctx, "k", []byte("a"), rev); err != nil { // the write whose answer was lost
		t.Fatal(err)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("Renew behind its own write = %v, want ErrLost", err)
	}
	if err := la.Reacquire(ctx); err != nil {
		t.Fatalf("Reacquire of a key holding the owner's own value = %v, want it taken back", err)
	}
	if !la.ValidUntil().After(before) {
		t.Fatal("Reacquire did not extend the lease's validity")
	}
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("Renew after Reacquire: %v", err)
	}
	if _, err := b.Acquire(ctx, "k", []byte("b")); !errors.Is(err, ErrHeld) {
		t.Fatalf("another owner's Acquire = %v, want ErrHeld", err)
	}
}

func TestKeeperRenewsAndReportsLoss(t *testing.T) {
	a, b := openBucket(t, "keeper")
	ctx := testCtx(t)
	la, err := a.Acquire(ctx, "k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	k := a.NewKeeper()
	defer k.Close()
	lost := make(chan error, 10)
	k.Add(la, func(err error) { lost <- err })
	time.Sleep(3 * ttl)
	if _, err := b.Acquire(ctx, "k", []byte("b")); !errors.Is(err, ErrHeld) {
		t.Fatalf("Acquire of a kept lease after 3 TTLs = %v, want ErrHeld", err)
	}
	// Somebody deletes the key and takes it: the next renewal reports it.
	if err := b.KV().Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "k", []byte("b")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		if !errors.Is(err, ErrLost) {
			t.Fatalf("onFail got %v, want ErrLost", err)
		}
	case <-time.After(10 * ttl):
		t.Fatal("the Keeper did not report the lost lease")
	}
}

func TestSharedLease(t *testing.T) {
	a, b := openBucket(t, "shared")
	ctx := testCtx(t)
	la, err := a.AcquireShared(ctx, "pool", []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.AcquireShared(ctx, "pool", []byte("p"))
	if err != nil {
		t.Fatalf("joining a shared lease: %v", err)
	}
	// Co-holders renew in turn, each catching up with the other's write.
	for range 3 {
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		if err := lb.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Acquire(ctx, "pool", []byte("x")); !errors.Is(err, ErrHeld) {
		t.Fatalf("exclusive Acquire of a shared key = %v, want ErrHeld", err)
	}
	if _, err := b.AcquireShared(ctx, "pool", []byte("other")); !errors.Is(err, ErrHeld) {
		t.Fatalf("AcquireShared with another value = %v, want ErrHeld", err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "pool"); err != nil {
		t.Fatalf("one holder's Release removed the shared key: %v", err)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
