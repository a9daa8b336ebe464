package actors

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/troupehq/troupe/problem"
)

// Errors of delivery between nodes.
var (
	// ErrUnavailable reports a message for another node that could not be
	// sent because the System's NATS connection is down (reconnecting or
	// closed). It is returned at once, never after waiting for a
	// reconnection; the message is a dead letter ("unavailable").
	ErrUnavailable = errors.New("actors: cluster unavailable: NATS is disconnected")
	// ErrUnregisteredType reports a message, reply or publication whose Go
	// type has no wire name (see RegisterMessage), so it cannot leave the
	// node. The concrete error is an *UnregisteredTypeError.
	ErrUnregisteredType = errors.New("actors: message type not registered for the wire")
	// ErrMessageTooLarge reports a message whose envelope is larger than
	// the cluster's maximum payload.
	ErrMessageTooLarge = errors.New("actors: message larger than the cluster's max payload")
)

// UnregisteredTypeError names the Go type that has no wire name.
type UnregisteredTypeError struct {
	// Type is the Go type, as reflect prints it ("*notes.Create").
	Type string
}

// Error names the type and the fix.
func (e *UnregisteredTypeError) Error() string {
	return fmt.Sprintf("actors: %s is not registered for the wire: call actors.RegisterMessage[%s](name) on every node", e.Type, e.Type)
}

// Is makes errors.Is(err, ErrUnregisteredType) true.
func (e *UnregisteredTypeError) Is(target error) bool { return target == ErrUnregisteredType }

// RemoteError is an error from another node that has no wire form of its
// own — an actor's failure, say — carried as its message.
type RemoteError struct {
	// Node is the node the error came from.
	Node string `json:"node"`
	// Message is the original error's Error().
	Message string `json:"message"`
}

// Error returns the original message and where it came from.
func (e *RemoteError) Error() string { return e.Message + " (on node " + e.Node + ")" }

// encodeError maps an error onto its wire code and text. A *problem.Error
// travels whole (status, detail, header), as the payload; an error of no
// known kind travels as its message and arrives as a *RemoteError.
func encodeError(err error) (errCode, string) {
	var pe *problem.Error
	var nf *NotFoundError
	var ut *UnregisteredTypeError
	var ce *CycleError
	switch {
	case errors.Is(err, ErrTimeout):
		return errCodeTimeout, ""
	case errors.Is(err, ErrNotOwner):
		return errCodeNotOwner, ""
	case errors.As(err, &nf):
		return errCodeNotFound, nf.Name
	case errors.Is(err, ErrStopped):
		return errCodeStopped, ""
	case errors.Is(err, ErrMailboxFull):
		return errCodeMailboxFull, ""
	case errors.Is(err, ErrNoReply):
		return errCodeNoReply, ""
	case errors.Is(err, ErrUnavailable):
		return errCodeUnavailable, ""
	case errors.As(err, &ut):
		return errCodeUnregistered, ut.Type
	case errors.Is(err, ErrMessageTooLarge):
		return errCodeTooLarge, err.Error()
	case errors.Is(err, ErrSelfRequest):
		return errCodeSelfRequest, ""
	case errors.As(err, &pe):
		return errCodeProblem, ""
	case errors.As(err, &ce):
		return errCodeCycle, truncate(ce.Cycle.String(), maxWireString)
	}
	return errCodeRemote, truncate(err.Error(), maxWireString)
}

// decodeError rebuilds the error of a reply: the same typed errors the
// caller would get locally. v is the reply's decoded payload, which holds
// a problem.
func decodeError(w *wireMsg, v any, to Ref) error {
	switch w.errCode {
	case errCodeTimeout:
		return &TimeoutError{To: to}
	case errCodeNotFound:
		return &NotFoundError{Name: w.errText}
	case errCodeStopped:
		return ErrStopped
	case errCodeMailboxFull:
		return ErrMailboxFull
	case errCodeNoReply:
		return ErrNoReply
	case errCodeUnavailable:
		return ErrUnavailable
	case errCodeUnregistered:
		return &UnregisteredTypeError{Type: w.errText}
	case errCodeTooLarge:
		return fmt.Errorf("%w (%s)", ErrMessageTooLarge, w.errText)
	case errCodeSelfRequest:
		return ErrSelfRequest
	case errCodeNotOwner:
		return ErrNotOwner
	case errCodeCycle:
		return fmt.Errorf("%w: %s (closed on node %s)", ErrCycle, w.errText, w.from.node)
	case errCodeProblem:
		if pe, ok := v.(*problem.Error); ok {
			return pe
		}
	}
	return &RemoteError{Node: w.from.node, Message: w.errText}
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
