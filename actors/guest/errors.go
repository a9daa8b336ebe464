package guest

import (
	"errors"
	"strconv"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// ErrorCode is the code of a failed host call, as defined by the ABI's error
// table (docs/wasm-abi.md).
type ErrorCode int32

// The ABI's error codes.
const (
	// CodeDenied: no capability in Component.toml grants the call.
	CodeDenied ErrorCode = abi.CodeDenied
	// CodeNotFound: no such actor or key.
	CodeNotFound ErrorCode = abi.CodeNotFound
	// CodeTimeout: the deadline passed.
	CodeTimeout ErrorCode = abi.CodeTimeout
	// CodeTooLarge: a payload, key or result is over its limit.
	CodeTooLarge ErrorCode = abi.CodeTooLarge
	// CodeInvalid: a malformed argument, such as bad JSON, a bad subject or
	// a bad URL.
	CodeInvalid ErrorCode = abi.CodeInvalid
	// CodeUnavailable: the recipient is overloaded or stopping, the store
	// is down, or there is no host at all (the package was built for
	// another platform than wasip1).
	CodeUnavailable ErrorCode = abi.CodeUnavailable
	// CodeFailed: the operation itself failed, for instance the other actor
	// replied with an error, or a network error.
	CodeFailed ErrorCode = abi.CodeFailed
)

var codeNames = [...]string{
	CodeDenied:      "denied",
	CodeNotFound:    "not found",
	CodeTimeout:     "timeout",
	CodeTooLarge:    "too large",
	CodeInvalid:     "invalid",
	CodeUnavailable: "unavailable",
	CodeFailed:      "failed",
}

// String returns the code's name, or "code N" for a code this SDK predates.
func (c ErrorCode) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code " + strconv.Itoa(int(c))
}

// Error is the error of a failed host call: its code and the host's message.
// Compare it with the sentinels (errors.Is(err, guest.ErrNotFound)), which
// match any Error of the same code.
type Error struct {
	Code    ErrorCode
	Message string
}

// Error formats the error as "troupe: <code>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return "troupe: " + e.Code.String()
	}
	return "troupe: " + e.Code.String() + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and either the
// same message or none, so that the message-less sentinels match every
// error of their code.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is, one per code.
var (
	ErrDenied      = &Error{Code: CodeDenied}
	ErrNotFound    = &Error{Code: CodeNotFound}
	ErrTimeout     = &Error{Code: CodeTimeout}
	ErrTooLarge    = &Error{Code: CodeTooLarge}
	ErrInvalid     = &Error{Code: CodeInvalid}
	ErrUnavailable = &Error{Code: CodeUnavailable}
	ErrFailed      = &Error{Code: CodeFailed}
)
