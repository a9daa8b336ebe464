// Package lease holds ownership of keys in a JetStream KV bucket: the one
// mechanism by which nodes of a Troupe cluster agree who owns something —
// an actor's name now, a sharded entity or a singleton later — without
// gossip or a consensus of their own. JetStream replicates the bucket with
// Raft; a lease is a key whose last write is recent enough.
//
// The bucket has a TTL (the stream's MaxAge) and a history of one.
// Acquiring is Create, which the stream makes atomic: of two nodes racing
// for a key exactly one write lands. Renewing is an Update checked against
// the revision the owner last wrote, a fresh message, so the key's age
// restarts; a node that stops renewing (SIGKILL, partition) loses the key
// when the message ages out, within one TTL. Releasing is a Delete checked
// against the same revision, so a node never deletes a key somebody else
// took in the meantime.
//
// Why bucket TTL and revision-checked updates rather than per-key TTLs:
// nats.go sets a per-key TTL only on Create (KeyTTL); Update has no TTL
// option, so a renewal could not restart a per-key TTL without bypassing
// the KV API with a raw publish (Nats-TTL plus an expected last subject
// sequence) that needs server 2.11 and a stream allowing message TTLs. The
// bucket TTL works on every JetStream server and gives the same rule.
//
// Fencing: an owner treats its lease as valid until the time it sent its
// last successful write, plus the TTL, minus a margin (ValidUntil). The
// server's clock starts the message's age no earlier than the send, so
// with the margin covering the server's expiry granularity and clock-rate
// drift, the owner's validity ends before any other node can acquire the
// key. An owner that cannot renew by then must stop acting as owner.
package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config describes a lease bucket.
type Config struct {
	// Bucket is the KV bucket's name: letters, digits, '-' and '_'.
	Bucket string
	// Description is stored with the bucket, for operators.
	Description string
	// TTL is how long a key lives without renewal.
	TTL time.Duration
	// Replicas is the bucket's replication factor (1 to 5).
	Replicas int
	// Storage is where the bucket's stream keeps its messages.
	Storage jetstream.StorageType
}

// ErrLost reports a lease that is no longer this owner's: the key was
// taken, deleted or aged out since the owner's last write.
var ErrLost = errors.New("lease: lost")

// ErrHeld is what a *HeldError matches with errors.Is.
var ErrHeld = errors.New("lease: held by another owner")

// ErrNotFound reports a key that has no live value.
var ErrNotFound = errors.New("lease: key not found")

// HeldError is returned by Acquire when another owner holds the key.
type HeldError struct {
	Key string
	// Value is the holder's value, nil when it could not be read.
	Value []byte
}

// Error names the held key.
func (e *HeldError) Error() string {
	return fmt.Sprintf("lease: key %q is held by another owner", e.Key)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Bucket is an open lease bucket.
type Bucket struct {
	kv     jetstream.KeyValue
	js     jetstream.JetStream
	cfg    jetstream.KeyValueConfig
	ttl    time.Duration
	margin time.Duration
}

// Open creates the bucket, or updates it to cfg when it exists (every node
// of a cluster opens it with the same settings).
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Bucket, error) {
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("lease: bucket %s: TTL must be positive, got %s", cfg.Bucket, cfg.TTL)
	}
	b := &Bucket{js: js, ttl: cfg.TTL, margin: Margin(cfg.TTL), cfg: jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: cfg.Description,
		History:     1,
		TTL:         cfg.TTL,
		Replicas:    max(cfg.Replicas, 1),
		Storage:     cfg.Storage,
	}}
	kv, err := openKV(ctx, js, b.cfg)
	if err != nil {
		return nil, fmt.Errorf("lease: opening bucket %s: %w", cfg.Bucket, err)
	}
	b.kv = kv
	return b, nil
}

// openAttempt bounds one attempt to create or update a bucket. A
// JetStream API request sent while the meta leader is being elected is
// never answered, even after the election; bounded only by the caller's
// context (2 min for a join), one such request held a node's join for all
// of it under the full -race run on 2 cores. A fresh request reaches the
// new leader.
const openAttempt = 10 * time.Second

// openKV creates or updates the bucket, retrying attempts that went
// unanswered until ctx ends.
func openKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, openAttempt)
		kv, err := js.CreateOrUpdateKeyValue(actx, cfg)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return kv, err
		}
	}
}

// do runs a bucket operation, and once more after recreating the bucket
// when its stream is gone: a memory-stored bucket does not survive a
// restart of its only server, and every lease in it is lost with it
// (their owners' next renewal reports ErrLost and re-acquires).
func (b *Bucket) do(ctx context.Context, op func() error) error {
	err := op()
	if !streamGone(err) {
		return err
	}
	if _, cerr := b.js.CreateOrUpdateKeyValue(ctx, b.cfg); cerr != nil {
		return err
	}
	return op()
}

// streamGone reports an operation that found no stream behind the bucket.
func streamGone(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrBucketNotFound)
}

// Margin is how long before the server could expire a lease its owner
// stops trusting it: a tenth of the TTL, at least 100 ms. The server ages
// messages out on a timer of its own and stamps them on arrival, after
// the owner's send; a tenth of a 10 s TTL is a second, ample for both on a
// loaded machine, while clocks drift by parts per million over a TTL.
func Margin(ttl time.Duration) time.Duration { return max(ttl/10, 100*time.Millisecond) }

// TTL returns the bucket's TTL.
func (b *Bucket) TTL() time.Duration { return b.ttl }

// KV returns the bucket, for watching it.
func (b *Bucket) KV() jetstream.KeyValue { return b.kv }

// Entry is a key's live value.
type Entry struct {
	Value    []byte
	Revision uint64
	// Created is the server's time of the last write.
	Created time.Time
}

// Get returns key's live value, or ErrNotFound.
func (b *Bucket) Get(ctx context.Context, key string) (Entry, error) {
	var e jetstream.KeyValueEntry
	err := b.do(ctx, func() (err error) {
		e, err = b.kv.Get(ctx, key)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	return Entry{Value: e.Value(), Revision: e.Revision(), Created: e.Created()}, nil
}

// Lease is one held key. Its methods are safe for concurrent use; the
// Keeper renews it while the owner uses it.
type Lease struct {
	b      *Bucket
	key    string
	value  []byte
	shared bool

	mu   sync.Mutex
	rev  uint64
	sent time.Time // when the last successful write was sent
}

// Acquire takes key with value, or returns a *HeldError. It writes in
// attempts of AttemptTimeout, retried while they go unanswered until ctx
// ends (Reacquire).
func (b *Bucket) Acquire(ctx context.Context, key string, value []byte) (*Lease, error) {
	l := &Lease{b: b, key: key, value: value}
	return l, l.Reacquire(ctx)
}

// AcquireShared joins the owners of key who all write the same value (a
// pool of actors sharing a name), or takes it when it is free. It returns
// a *HeldError when the key holds another value. A shared lease is never
// deleted by one of its holders: it ages out when the last one stops
// renewing.
func (b *Bucket) AcquireShared(ctx context.Context, key string, value []byte) (*Lease, error) {
	l := &Lease{b: b, key: key, value: value, shared: true}
	return l, l.Reacquire(ctx)
}

// create writes the key if it is free, else returns a *HeldError with the
// holder's value. A key the stream's leader refused to create can read as
// missing a moment later: reads of a replicated bucket are direct gets,
// served by any replica, which may not have applied the write that took
// the key yet (or the key was deleted in between). create then tries
// again rather than report the key held by nobody in particular: a pool
// member starting on two nodes at once read its co-holder's create as
// missing and failed its node's start-up with "name already taken"
// (TestShowcaseCluster, once in 12 runs under load).
func (l *Lease) create(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		sent := time.Now()
		var rev uint64
		err := l.b.do(ctx, func() (err error) {
			rev, err = l.b.kv.Create(ctx, l.key, l.value)
			return err
		})
		if err == nil {
			l.wrote(rev, sent)
			return nil
		}
		if !conflict(err) {
			return fmt.Errorf("lease: acquiring %q: %w", l.key, err)
		}
		held := &HeldError{Key: l.key}
		e, gerr := l.b.Get(ctx, l.key)
		if errors.Is(gerr, ErrNotFound) && attempt < 3 {
			continue
		}
		if gerr == nil {
			held.Value = e.Value
			l.mu.Lock()
			l.rev = e.Revision
			l.mu.Unlock()
		}
		return held
	}
}

func (l *Lease) wrote(rev uint64, sent time.Time) {
	l.mu.Lock()
	l.rev, l.sent = rev, sent
	l.mu.Unlock()
}

// Key returns the leased key.
func (l *Lease) Key() string { return l.key }

// Value returns the value the owner writes.
func (l *Lease) Value() []byte { return l.value }

// Renew writes the value again, checked against the last revision, which
// restarts the key's age. It returns ErrLost (wrapped) when the key
// changed since; a shared lease first catches up with a co-holder's write
// of the same value. Other errors (a disconnection) leave the lease as it
// was: it stays valid until ValidUntil.
func (l *Lease) Renew(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		sent := time.Now()
		var next uint64
		err := l.b.do(ctx, func() (err error) {
			next, err = l.b.kv.Update(ctx, l.key, l.value, rev)
			return err
		})
		if err == nil {
			l.wrote(next, sent)
			return nil
		}
		if !conflict(err) {
			return fmt.Errorf("lease: renewing %q: %w", l.key, err)
		}
		if !l.shared || attempt > 2 {
			return fmt.Errorf("lease: renewing %q: %w", l.key, ErrLost)
		}
		e, gerr := l.b.Get(ctx, l.key)
		if gerr != nil || string(e.Value) != string(l.value) {
			return fmt.Errorf("lease: renewing %q: %w", l.key, ErrLost)
		}
		l.mu.Lock()
		l.rev = e.Revision
		l.mu.Unlock()
	}
}

// Reacquire takes the key again after ErrLost, when it aged out or was
// deleted and nobody else took it; otherwise it returns a *HeldError. It
// writes in attempts of AttemptTimeout, retried while they go unanswered
// until ctx ends.
//
// A key holding this owner's own value is taken back with a
// revision-checked Update: it is a write of this owner's whose answer was
// lost. A write that times out on the client may still land — a renewal
// or an earlier attempt sent while the bucket's stream was electing a
// leader after its leader's server died — and leave the owner's revision
// behind its own key. Owners' values are unique (a node's start time, an
// actor's process id, a node's id for the one activation of an entity
// that node may run at a time), so the key is not another owner's; the
// Update fails if anybody writes it meanwhile, and ValidUntil counts from
// that confirmed write. For a shared lease the same rule joins the
// co-holders.
func (l *Lease) Reacquire(ctx context.Context) error {
	for {
		actx, cancel := context.WithTimeout(ctx, AttemptTimeout(l.b.ttl))
		err := l.reacquireOnce(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}

func (l *Lease) reacquireOnce(ctx context.Context) error {
	err := l.create(ctx)
	var held *HeldError
	if errors.As(err, &held) && held.Value != nil && string(held.Value) == string(l.value) {
		return l.Renew(ctx)
	}
	return err
}

// AttemptTimeout bounds one write to a bucket with the given TTL: a
// third of the TTL, the renewal period, and at most a second. A write
// sent while the bucket's stream has no leader — 4 to 9 s after its
// leader's server dies, nats-server's Raft election timeout — is never
// answered, even once a new leader is elected; only a fresh write reaches
// the new leader, so the bound is how late after an election a waiting
// writer notices. A lease write on a healthy cluster takes about a
// millisecond (a create 111 µs in docs/benchmarks.md#sharded-entities),
// so a second leaves room for a loaded machine; an attempt that still
// runs out costs a retry, not the lease (Retake).
func AttemptTimeout(ttl time.Duration) time.Duration { return min(ttl/3, time.Second) }

// Release deletes the key if it is still this owner's write, so others
// may acquire it at once instead of after the TTL. A shared lease is left
// to age out: other holders may still be renewing it.
func (l *Lease) Release(ctx context.Context) error {
	if l.shared {
		return nil
	}
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	err := l.b.kv.Delete(ctx, l.key, jetstream.LastRevision(rev))
	if conflict(err) {
		return fmt.Errorf("lease: releasing %q: %w", l.key, ErrLost)
	}
	if err != nil {
		return fmt.Errorf("lease: releasing %q: %w", l.key, err)
	}
	return nil
}

// Renewed is when the last successful write of the lease was sent: its
// age is how long the owner has gone without renewing it.
func (l *Lease) Renewed() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// ValidUntil is the fencing time: past it the owner must not act on the
// lease any more, because another node may hold it soon after.
func (l *Lease) ValidUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent.Add(l.b.ttl - l.b.margin)
}

// conflict reports a revision check that failed: the key exists (Create)
// or changed (Update, Delete). Replicated streams report it with another
// code than single-replica ones, and Create of a key whose last write is a
// delete marker reports it unmapped, so every form is checked.
func conflict(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
