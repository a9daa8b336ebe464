package inspect

import (
	"time"
	"unsafe"

	"github.com/troupehq/troupe/actors"
)

// ring keeps the newest events, at most max: it grows by doubling up to
// max as events arrive, then each new event replaces the oldest, so its
// memory never passes max events (plus what the spilled ones hold, which
// it counts).
//
// Why slots, not Events: the garbage collector marks every pointer of the
// live heap on each cycle, and a ring of 10,000 Events holds 120,000 of
// them (strings and times) and 10,000 request ID strings of its own. A
// full collection took 0.68–0.78 ms with such a ring held against 0.22
// ms with none; with the same events as slots, 0.22 ms (BenchmarkRingGC, one
// CPU). HTTP through an actor route allocates ~10 KB a request, so the
// collector runs every few hundred requests: ~0.5–1 µs of a 14 µs request
// went to marking the ring. A slot holds no pointer — its strings are
// packed into its text — so the collector skips the whole buffer, and an
// event takes 200 bytes instead of 312. An event whose strings do not fit
// (long names, and every failure's message and cycle's detail, which are
// rare) is kept whole in spill.
type ring struct {
	buf     []slot
	spill   map[uint64]*Event // by Seq: the events whose slot says spilled
	head    int               // the oldest event
	n       int
	max     int
	strings int    // bytes held by the spilled events
	dropped uint64 // events replaced before their retention ended
	expired uint64 // events removed at the end of their retention
}

func newRing(max int) *ring { return &ring{max: max, spill: map[uint64]*Event{}} }

// textCap is a slot's room for its strings: an HTTP request to an actor
// (its name, *actors.HTTPRequest, the outcome and a request ID) takes
// about 60 bytes.
const textCap = 96

// slot is an event as the ring keeps it.
type slot struct {
	seq uint64
	// ended is when a recorded message, dead letter or restart ended,
	// converted when read (as its other stamps are); time is an event's
	// Unix nanoseconds when it was added as an Event (a test's, or a
	// spilled one's, which keeps its own).
	ended            actors.Stamp
	time             int64
	actorID, fromID  uint64
	wait, processing time.Duration
	stamps           [3]actors.Stamp
	traceID          TraceID
	kind             uint8 // index in kinds
	request, spilled bool
	// lens are the lengths of the actor, from, message, outcome and
	// request ID, in that order in text.
	lens [5]uint8
	text [textCap]byte
}

// kinds are the events' kinds, by a slot's kind.
var kinds = [...]string{KindMessage, KindDeadLetter, KindRestart, KindCycle, KindCycleResolved}

// slotSize is what one event costs in the buffer; eventSize what a
// spilled one costs besides.
const (
	slotSize  = int(unsafe.Sizeof(slot{}))
	eventSize = int(unsafe.Sizeof(Event{}))
)

// add keeps e, replacing the oldest event when full; e must not change
// afterwards.
func (r *ring) add(e *Event) {
	s := r.push()
	if !s.pack(e) {
		r.keepWhole(s, e)
	}
}

// pack writes e into s, which is zero, and reports whether it fit.
func (s *slot) pack(e *Event) bool {
	s.seq, s.time, s.actorID, s.fromID = e.Seq, e.Time.UnixNano(), e.ActorID, e.FromID
	s.wait, s.processing, s.stamps, s.traceID, s.request = e.Wait, e.Processing, e.stamps, e.TraceID, e.Request
	s.kind = kindIndex(e.Kind)
	return e.Error == "" && e.Detail == "" && s.packText([5]string{e.Actor, e.From, e.Message, e.Outcome, e.RequestID})
}

// packText packs the actor, from, message, outcome and request ID into
// s's text, and reports whether they fit.
func (s *slot) packText(strs [5]string) bool {
	at := 0
	for k, str := range strs {
		if len(str) > 255 || at+len(str) > textCap {
			return false
		}
		at += copy(s.text[at:], str)
		s.lens[k] = uint8(len(str))
	}
	return true
}

// kindIndex is kind's index in kinds.
func kindIndex(kind string) uint8 {
	for k, name := range kinds {
		if name == kind {
			return uint8(k)
		}
	}
	return 0
}

// keepWhole keeps e, which did not fit in s, in spill; the ring owns it
// from now on.
func (r *ring) keepWhole(s *slot, e *Event) {
	s.spilled, s.lens, s.text = true, [5]uint8{}, [textCap]byte{}
	r.spill[e.Seq] = e
	r.strings += eventSize + e.ownBytes()
}

// unpack writes the event s holds into e.
func (r *ring) unpack(s *slot, e *Event) {
	if s.spilled {
		*e = *r.spill[s.seq]
		return
	}
	*e = Event{
		Seq: s.seq, Kind: kinds[s.kind], Time: r.timeOf(s), ActorID: s.actorID, FromID: s.fromID,
		Request: s.request, Wait: s.wait, Processing: s.processing, TraceID: s.traceID, stamps: s.stamps,
	}
	at := 0
	for k, p := range [5]*string{&e.Actor, &e.From, &e.Message, &e.Outcome, &e.RequestID} {
		*p = string(s.text[at : at+int(s.lens[k])])
		at += int(s.lens[k])
	}
}

// push returns the zeroed slot of a new event, the oldest one's when full.
func (r *ring) push() *slot {
	if r.n == len(r.buf) && len(r.buf) < r.max {
		r.grow()
	}
	var s *slot
	if r.n < len(r.buf) {
		s = &r.buf[(r.head+r.n)%len(r.buf)]
		r.n++
	} else {
		s = &r.buf[r.head]
		r.forget(s)
		r.head = (r.head + 1) % len(r.buf)
		r.dropped++
	}
	*s = slot{}
	return s
}

// forget drops what a slot about to be reused or emptied kept in spill.
func (r *ring) forget(s *slot) {
	if s.spilled {
		r.strings -= eventSize + r.spill[s.seq].ownBytes()
		delete(r.spill, s.seq)
	}
}

func (r *ring) grow() {
	buf := make([]slot, min(r.max, max(64, 2*len(r.buf))))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// timeOf is when the event s holds happened.
func (r *ring) timeOf(s *slot) time.Time {
	switch {
	case s.spilled:
		return r.spill[s.seq].Time
	case s.ended != 0:
		return s.ended.Time()
	}
	return time.Unix(0, s.time)
}

// expire removes the events that ended before cutoff, oldest first.
func (r *ring) expire(cutoff time.Time) {
	for r.n > 0 && r.timeOf(&r.buf[r.head]).Before(cutoff) {
		r.forget(&r.buf[r.head])
		r.buf[r.head] = slot{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
		r.expired++
	}
}

// each calls f with the events, oldest first, until f returns false. The
// Event is f's only during the call.
func (r *ring) each(f func(*Event) bool) {
	var e Event
	for i := range r.n {
		r.unpack(&r.buf[(r.head+i)%len(r.buf)], &e)
		if !f(&e) {
			return
		}
	}
}

// bytes is the memory the ring holds.
func (r *ring) bytes() int { return cap(r.buf)*slotSize + r.strings }
