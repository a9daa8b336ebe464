// Package state is where actors keep state that must outlive an actor's
// restart: a key-value Store, in memory by default and in Redis by
// configuration, so that state shared by several service instances, or
// surviving a process restart, needs no code change.
package state

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get for a key that holds no value.
var ErrNotFound = errors.New("state: key not found")

// Store is a key-value store for actor state. Keys are opaque strings; the
// caller namespaces them (WASM components use "<component>/<namespace>/<key>").
// Implementations are safe for concurrent use and honour ctx for cancellation
// and deadlines.
type Store interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores value under key, replacing any previous value. The store
	// keeps its own copy of value.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
