package actors

import (
	"runtime"
	"sync"
	"weak"
)

// internTable interns endpoints by key, so two Refs to one actor are equal
// (==, map keys) and share one Done. It holds them weakly: an endpoint no
// Ref points at any more is collected and its entry removed, so keys seen
// once (the sender of one message, an entity asked once) do not
// accumulate. Remote endpoints and entity endpoints both use it.
type internTable[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]weak.Pointer[V]
}

// get returns the live endpoint of key, or the one make builds and the
// table keeps from now on.
func (t *internTable[K, V]) get(key K, make func() *V) *V {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v := t.m[key].Value(); v != nil {
		return v
	}
	if t.m == nil {
		t.m = map[K]weak.Pointer[V]{}
	}
	v := make()
	wp := weak.Make(v)
	t.m[key] = wp
	runtime.AddCleanup(v, t.forget, internEntry[K, V]{key, wp})
	return v
}

type internEntry[K comparable, V any] struct {
	key K
	wp  weak.Pointer[V]
}

// forget removes a collected endpoint's entry, unless a newer one took it.
func (t *internTable[K, V]) forget(e internEntry[K, V]) {
	t.mu.Lock()
	if t.m[e.key] == e.wp {
		delete(t.m, e.key)
	}
	t.mu.Unlock()
}

// lookup returns the live endpoint of key, or nil.
func (t *internTable[K, V]) lookup(key K) *V {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[key].Value()
}

// live returns the live endpoints whose key keep accepts.
func (t *internTable[K, V]) live(keep func(K) bool) []*V {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*V
	for k, wp := range t.m {
		if v := wp.Value(); v != nil && keep(k) {
			out = append(out, v)
		}
	}
	return out
}
