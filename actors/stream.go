package actors

import (
	"sync"
	"sync/atomic"
)

// Stream fans values out to subscribers without ever blocking the publisher:
// a subscriber whose buffer is full loses the value and Lost counts it. The
// runtime publishes dead letters and lifecycle events this way so that a slow
// observer cannot stall actors.
type Stream[T any] struct {
	active atomic.Int32 // subscriber count: the no-subscriber fast path
	lost   atomic.Uint64
	mu     sync.RWMutex
	subs   []chan T
	closed bool
}

// Subscribe returns a channel receiving every value published from now on,
// buffered to buffer (minimum 1), and a cancel func that closes it. The
// channel is also closed when the System shuts down.
func (s *Stream[T]) Subscribe(buffer int) (<-chan T, func()) {
	ch := make(chan T, max(buffer, 1))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(ch)
		return ch, func() {}
	}
	s.subs = append(s.subs, ch)
	s.active.Add(1)
	var once sync.Once
	return ch, func() { once.Do(func() { s.remove(ch) }) }
}

// Lost returns how many values were not delivered to a full subscriber.
func (s *Stream[T]) Lost() uint64 { return s.lost.Load() }

func (s *Stream[T]) remove(ch chan T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.subs {
		if c == ch {
			s.subs = append(s.subs[:i], s.subs[i+1:]...)
			s.active.Add(-1)
			close(ch)
			return
		}
	}
}

// hasSubscribers lets callers skip building a value nobody will see.
func (s *Stream[T]) hasSubscribers() bool { return s.active.Load() > 0 }

func (s *Stream[T]) publish(v T) {
	if !s.hasSubscribers() {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ch := range s.subs {
		select {
		case ch <- v:
		default:
			s.lost.Add(1)
		}
	}
}

// close ends every subscription; later Subscribes get a closed channel.
func (s *Stream[T]) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs {
		close(ch)
	}
	s.subs = nil
	s.closed = true
	s.active.Store(0)
}
