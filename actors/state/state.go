// Package state is where actors keep state that must outlive an actor's
// restart: a key-value Store, in memory by default, in Redis or in a
// JetStream KV bucket by configuration, so that state shared by several
// service instances, or surviving a process restart or a move to another
// node, needs no code change.
//
// # Optimistic concurrency
//
// Every write gives a key a new revision, a number that GetEntry returns
// with the value. PutIf writes only if the key's revision is still the one
// the caller read (0: only if the key is absent) and otherwise returns
// ErrConflict, so a read-modify-write loop needs no lock:
//
//	for {
//		e, err := store.GetEntry(ctx, key) // ErrNotFound: e.Revision is 0
//		...
//		_, err = store.PutIf(ctx, key, next(e.Value), e.Revision)
//		if !errors.Is(err, state.ErrConflict) {
//			return err
//		}
//	}
//
// Of N writers racing with the same revision exactly one wins. Revisions
// increase across the whole store, not per key, in every implementation:
// a key deleted and created again never gets back a revision it had, so a
// writer holding a revision from before the Delete conflicts (no ABA).
// That is what JetStream KV does natively (a revision is the bucket
// stream's sequence); Memory and Redis keep a counter per store to match.
package state

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get for a key that holds no value.
var ErrNotFound = errors.New("state: key not found")

// ErrConflict is returned by PutIf when the key's revision is not the one
// the caller gave: another writer came first, the key was deleted, or, for
// revision 0, the key exists. Read the key again and retry.
var ErrConflict = errors.New("state: revision conflict")

// ErrInvalidKey is returned for a key a store cannot hold: the empty key
// (every store), or a key too long once escaped (JetStream).
var ErrInvalidKey = errors.New("state: invalid key")

// Entry is a value with the revision of the write that stored it.
type Entry struct {
	Value []byte
	// Revision is positive for a stored value; 0 is never a revision, so
	// PutIf(..., 0) means "only if absent".
	Revision uint64
}

// Store is a key-value store for actor state. Keys are non-empty opaque
// strings; the caller namespaces them (WASM components use
// "<component>/<namespace>/<key>"). Implementations are safe for
// concurrent use and honour ctx for cancellation and deadlines.
type Store interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetEntry returns the value stored under key with its revision, or
	// ErrNotFound (with a zero Entry).
	GetEntry(ctx context.Context, key string) (Entry, error)
	// Put stores value under key, replacing any previous value. The store
	// keeps its own copy of value.
	Put(ctx context.Context, key string, value []byte) error
	// PutIf stores value under key only if the key's current revision is
	// revision, 0 meaning the key must be absent, and returns the new
	// revision; otherwise it stores nothing and returns ErrConflict.
	PutIf(ctx context.Context, key string, value []byte, revision uint64) (uint64, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
