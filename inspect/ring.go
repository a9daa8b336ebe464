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
	*r.push() = e
	r.strings += e.ownBytes()
}

// push returns the zeroed slot of a new event, the oldest one's when full,
// for the caller to fill in place; the caller then adds the event's
// ownBytes to strings. Filling in place keeps a 312-byte Event off the
// recording goroutine's stack, which is a fresh drain goroutine's small
// one: copies of it made the stack grow on every traced message.
func (r *ring) push() *Event {
	if r.n == len(r.buf) && len(r.buf) < r.max {
		r.grow()
	}
	var e *Event
	if r.n < len(r.buf) {
		e = &r.buf[(r.head+r.n)%len(r.buf)]
		r.n++
	} else {
		e = &r.buf[r.head]
		r.strings -= e.ownBytes()
		r.head = (r.head + 1) % len(r.buf)
		r.dropped++
	}
	*e = Event{}
	return e
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
