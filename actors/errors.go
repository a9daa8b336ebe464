package actors

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is; the typed errors below carry
// detail and unwrap to these.
var (
	// ErrNameTaken reports a Spawn whose name is already registered.
	ErrNameTaken = errors.New("actors: name already taken")
	// ErrNotFound reports a name that no live actor holds, or a zero Ref.
	ErrNotFound = errors.New("actors: actor not found")
	// ErrStopped reports a message or call aimed at an actor that has stopped
	// (or is stopping), or at a System that has shut down.
	ErrStopped = errors.New("actors: actor stopped")
	// ErrMailboxFull reports a message refused by a full mailbox: the Reject
	// policy, or the Block policy whose deadline passed first.
	ErrMailboxFull = errors.New("actors: mailbox full")
	// ErrTimeout reports a Request whose context deadline passed before the
	// reply arrived. The concrete error is a *TimeoutError.
	ErrTimeout = errors.New("actors: request timed out")
	// ErrNoReply reports a Request whose message was processed without a
	// Respond or Forward, so no reply will ever come.
	ErrNoReply = errors.New("actors: message processed without a reply")
	// ErrSelfRequest reports an actor requesting itself from inside Receive,
	// which would deadlock: its own mailbox cannot be drained while it waits.
	ErrSelfRequest = errors.New("actors: an actor cannot Request itself")
)

// NameTakenError is returned by Spawn when Name is registered to a live actor.
type NameTakenError struct{ Name string }

// Error names the taken name.
func (e *NameTakenError) Error() string { return fmt.Sprintf("actors: name %q already taken", e.Name) }

// Is makes errors.Is(err, ErrNameTaken) true.
func (e *NameTakenError) Is(target error) bool { return target == ErrNameTaken }

// NotFoundError is returned by Lookup (and by calls given a zero Ref) when no
// live actor answers to Name.
type NotFoundError struct{ Name string }

// Error names the missing actor, or says the Ref was zero.
func (e *NotFoundError) Error() string {
	if e.Name == "" {
		return "actors: no actor (zero Ref)"
	}
	return fmt.Sprintf("actors: no actor named %q", e.Name)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// TimeoutError is returned by Request when its context deadline passes first.
// It matches both ErrTimeout and context.DeadlineExceeded with errors.Is, so
// HTTP timeout handling that looks for the latter maps it like any deadline.
type TimeoutError struct {
	// To is the actor that did not answer in time.
	To Ref
}

// Error names the actor that did not answer.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("actors: request to %s timed out", e.To)
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// PanicError is the failure recorded when Receive (or a Producer) panics.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
}

// Error shows the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("actors: panic: %v", e.Value) }

// Unwrap returns Value when it is an error, so errors.Is sees through panics
// of error values.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// EscalationError is the failure of a supervisor whose child exceeded its
// restart intensity: the child gave up, so its parent fails in turn and the
// grandparent's strategy decides.
type EscalationError struct {
	// Child is the actor that failed too often.
	Child Ref
	// Err is the child's last failure.
	Err error
}

// Error names the child and its last failure.
func (e *EscalationError) Error() string {
	return fmt.Sprintf("actors: child %s exceeded its restart intensity: %v", e.Child, e.Err)
}

// Unwrap returns the child's failure.
func (e *EscalationError) Unwrap() error { return e.Err }
