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

	mu   sync.RWMutex
	data map[string][]byte
}

// NewMemory returns an empty in-memory store holding at most maxKeys keys;
// 0 means no bound.
func NewMemory(maxKeys int) *Memory {
	return &Memory{maxKeys: max(maxKeys, 0), data: make(map[string][]byte)}
}

// Get returns a copy of the value under key, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	v, ok := m.data[key]
	m.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	// Values are never mutated in place (Put stores a fresh copy), so the
	// copy can be made outside the lock.
	return append([]byte{}, v...), nil
}

// Put stores a copy of value under key. A new key in a full store is
// ErrFull; replacing an existing key always succeeds.
func (m *Memory) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v := append([]byte{}, value...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[key]; !ok && m.maxKeys > 0 && len(m.data) >= m.maxKeys {
		return ErrFull
	}
	m.data[key] = v
	return nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
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
