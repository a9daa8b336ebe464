package inspect

import (
	"encoding/hex"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
)

// Event kinds.
const (
	// KindMessage is the life of one traced message, from its enqueue to
	// the end of its Receive: the enqueue, start, reply and end events in
	// one record, with the mailbox wait and the processing time.
	KindMessage = "message"
	// KindDeadLetter is a message that did not reach Receive.
	KindDeadLetter = "dead_letter"
	// KindRestart is an actor restarted by its supervisor.
	KindRestart = "restart"
	// KindCycle is a request cycle, detected while it waits.
	KindCycle = "cycle"
	// KindCycleResolved is the end of a request cycle.
	KindCycleResolved = "cycle_resolved"
)

// Event is one recorded event. Messages are recorded by type, never by
// value: the inspector shows no payload, so it shows no secret.
type Event struct {
	// Seq numbers the events of an Inspector, from 1.
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"`
	// Time is when it happened: for a message, when its Receive ended.
	Time time.Time `json:"time"`
	// ActorID and Actor (its name, or its kind when anonymous) are the
	// receiving actor; FromID and From the sending one, if any.
	ActorID uint64 `json:"actor_id,omitzero"`
	Actor   string `json:"actor,omitempty"`
	FromID  uint64 `json:"from_id,omitzero"`
	From    string `json:"from,omitempty"`
	// Message is the message's Go type.
	Message string `json:"message,omitempty"`
	// Request is true when a caller waited for a reply.
	Request bool `json:"request,omitzero"`
	// Enqueued, Started and Replied time the message; with Time, its end.
	Enqueued time.Time `json:"enqueued,omitzero"`
	Started  time.Time `json:"started,omitzero"`
	Replied  time.Time `json:"replied,omitzero"`
	// Wait is the time in the mailbox, Processing the time in Receive.
	Wait       time.Duration `json:"wait_ns,omitzero"`
	Processing time.Duration `json:"processing_ns,omitzero"`
	// Outcome is how a message ended (replied, late reply, forwarded, no
	// reply, done, failed), a dead letter's reason, or how a cycle
	// resolved.
	Outcome string `json:"outcome,omitempty"`
	// Error is a failure's message, or why an actor restarted.
	Error string `json:"error,omitempty"`
	// Detail describes a cycle: its actors in request order.
	Detail string `json:"detail,omitempty"`
	// TraceID and RequestID name the request that caused the event.
	TraceID   TraceID `json:"trace_id,omitzero"`
	RequestID string  `json:"request_id,omitempty"`

	// stamps are Enqueued, Started and Replied as the actor system took
	// them, kept by the ring and converted only when the event is read
	// (times): a conversion is a time.Time.Add, ~9 ns, and three of them
	// were a third of recording a traced message (BenchmarkRecord). An
	// event is recorded many times more often than it is read.
	stamps [3]actors.Stamp
}

// times fills Enqueued, Started and Replied from the stamps.
func (e *Event) times() {
	if e.stamps != [3]actors.Stamp{} {
		e.Enqueued, e.Started, e.Replied = e.stamps[0].Time(), e.stamps[1].Time(), e.stamps[2].Time()
	}
}

// ownBytes is the size of the strings only this event holds; names and
// types are shared with the actors and the type table.
func (e *Event) ownBytes() int { return len(e.Error) + len(e.Detail) + len(e.RequestID) }

// TraceID is an OpenTelemetry trace ID, written in hex.
type TraceID trace.TraceID

// IsZero reports whether there is no trace.
func (t TraceID) IsZero() bool { return trace.TraceID(t) == trace.TraceID{} }

// String returns the 32 hex digits, or "" for no trace.
func (t TraceID) String() string {
	if t.IsZero() {
		return ""
	}
	return hex.EncodeToString(t[:])
}

// MarshalText writes the hex digits.
func (t TraceID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }
