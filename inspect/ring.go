package inspect

import (
	"time"
	"unsafe"
)

// ring keeps the newest events, at most max: it grows by doubling up to
// max as events arrive, then each new event replaces the oldest, so its
// memory never passes max events (plus the strings they hold, which it
// counts).
type ring struct {
	buf     []Event
	head    int // the oldest event
	n       int
	max     int
	strings int    // bytes of the strings only events hold
	dropped uint64 // events replaced before their retention ended
	expired uint64 // events removed at the end of their retention
}

func newRing(max int) *ring { return &ring{max: max} }

// eventSize is what one event costs in the buffer.
const eventSize = int(unsafe.Sizeof(Event{}))

// add keeps e, replacing the oldest event when full.
func (r *ring) add(e Event) {
	r.strings += e.ownBytes()
	if r.n == len(r.buf) && len(r.buf) < r.max {
		r.grow()
	}
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = e
		r.n++
		return
	}
	old := &r.buf[r.head]
	r.strings -= old.ownBytes()
	*old = e
	r.head = (r.head + 1) % len(r.buf)
	r.dropped++
}

func (r *ring) grow() {
	buf := make([]Event, min(r.max, max(64, 2*len(r.buf))))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// expire removes the events that ended before cutoff, oldest first.
func (r *ring) expire(cutoff time.Time) {
	for r.n > 0 && r.buf[r.head].Time.Before(cutoff) {
		r.strings -= r.buf[r.head].ownBytes()
		r.buf[r.head] = Event{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
		r.expired++
	}
}

// each calls f with the events, oldest first, until f returns false.
func (r *ring) each(f func(*Event) bool) {
	for i := range r.n {
		if !f(&r.buf[(r.head+i)%len(r.buf)]) {
			return
		}
	}
}

// bytes is the memory the ring holds.
func (r *ring) bytes() int { return cap(r.buf)*eventSize + r.strings }
