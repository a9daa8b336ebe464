package resilience

import "sync"

// DefaultGroup is the route group of every request when a stage is given no
// Group function: one breaker or bulkhead for the whole service.
const DefaultGroup = "default"

// groupOf returns the group function to use, DefaultGroup's when f is nil.
func groupOf(f func(method, route string) string) func(method, route string) string {
	if f != nil {
		return f
	}
	return func(string, string) string { return DefaultGroup }
}

// groupSet holds one value per group name, made on first use. Groups come
// from route templates or host names, a set fixed by the application, so the
// map is never pruned. A read-mostly map under an RWMutex, unlike sync.Map,
// looks a string key up without boxing it, so a request costs no allocation.
type groupSet[T any] struct {
	mu       sync.RWMutex
	m        map[string]T
	newValue func(name string) T
}

func newGroupSet[T any](newValue func(name string) T) *groupSet[T] {
	return &groupSet[T]{m: make(map[string]T), newValue: newValue}
}

// get returns the value of group name, making it the first time.
func (s *groupSet[T]) get(name string) T {
	s.mu.RLock()
	v, ok := s.m[name]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok = s.m[name]; !ok {
		v = s.newValue(name)
		s.m[name] = v
	}
	return v
}
