package state

import (
	"context"
	"errors"
	"sync"
)

// ErrFull is returned by Memory.Put for a new key when the store already
// holds its maximum number of keys. The store never evicts silently: state
// an actor wrote must not vanish behind its back.
var ErrFull = errors.New("state: store is full")

var _ Store = (*Memory)(nil)

// Memory is a Store in process memory: fast, private to the process, and
// gone when it exits. It is the default store and the one tests use.
type Memory struct {
	maxKeys int

	mu       sync.RWMutex
	data     map[string]Entry
	revision uint64 // the last revision given; guarded by mu
}

// NewMemory returns an empty in-memory store holding at most maxKeys keys;
// 0 means no bound.
func NewMemory(maxKeys int) *Memory {
	return &Memory{maxKeys: max(maxKeys, 0), data: make(map[string]Entry)}
}

// Get returns a copy of the value under key, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := m.GetEntry(ctx, key)
	return e.Value, err
}

// GetEntry returns a copy of the value under key with its revision, or
// ErrNotFound.
func (m *Memory) GetEntry(ctx context.Context, key string) (Entry, error) {
	if err := check(ctx, key); err != nil {
		return Entry{}, err
	}
	m.mu.RLock()
	e, ok := m.data[key]
	m.mu.RUnlock()
	if !ok {
		return Entry{}, ErrNotFound
	}
	// Values are never mutated in place (a write stores a fresh copy), so
	// the copy can be made outside the lock.
	return Entry{Value: append([]byte{}, e.Value...), Revision: e.Revision}, nil
}

// Put stores a copy of value under key. A new key in a full store is
// ErrFull; replacing an existing key always succeeds.
func (m *Memory) Put(ctx context.Context, key string, value []byte) error {
	_, err := m.put(ctx, key, value, false, 0)
	return err
}

// PutIf stores a copy of value under key if the key's revision is
// revision (0: if it is absent), and returns the new revision; else
// ErrConflict. A new key in a full store is ErrFull.
func (m *Memory) PutIf(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	return m.put(ctx, key, value, true, revision)
}

// put writes value under key, when conditional only if the key's
// revision is revision, and returns the new revision.
func (m *Memory) put(ctx context.Context, key string, value []byte, conditional bool, revision uint64) (uint64, error) {
	if err := check(ctx, key); err != nil {
		return 0, err
	}
	v := append([]byte{}, value...)
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.data[key]
	switch {
	case conditional && old.Revision != revision:
		return 0, ErrConflict
	case !ok && m.maxKeys > 0 && len(m.data) >= m.maxKeys:
		return 0, ErrFull
	}
	m.revision++
	m.data[key] = Entry{Value: v, Revision: m.revision}
	return m.revision, nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.data, key)
	m.mu.Unlock()
	return nil
}

// Len returns the number of keys held, for metrics and tests.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.data)
}

// check rejects a call whose context has ended or whose key is empty.
func check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return ErrInvalidKey
	}
	return nil
}
