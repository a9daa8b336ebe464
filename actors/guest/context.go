package guest

import (
	"strconv"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Kind says what a message delivered to the component is; it is the kind
// argument of troupe_receive.
type Kind int32

// Message kinds.
const (
	// KindMessage is the payload of a Send or Request, handled by Handle.
	KindMessage Kind = abi.KindMessage
	// KindHTTP is an HTTP request routed to the component, handled by
	// HandleHTTP.
	KindHTTP Kind = abi.KindHTTP
	// KindPublication is a message on a subscribed topic, handled by
	// HandlePublication.
	KindPublication Kind = abi.KindPublication
	// kindHTTPBinary is an HTTP request in the binary layout, which the
	// host sends to guests exporting troupe_http_binary, as this SDK's do;
	// handlers see it as KindHTTP.
	kindHTTPBinary Kind = abi.KindHTTPBinary
)

// String returns the kind's name, or "kind N" for an unknown kind.
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindHTTP, kindHTTPBinary:
		return "http"
	case KindPublication:
		return "publication"
	}
	return "kind " + strconv.Itoa(int(k))
}

// Level is a log level, numbered as in log/slog so the host maps it one to
// one (this package avoids importing slog to keep guests small).
type Level int32

// Log levels.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// Context describes the message a handler is handling. It is a small value,
// passed by value, so delivering a message allocates nothing for it.
type Context struct {
	kind Kind
}

// Kind returns the kind of the message being handled.
func (c Context) Kind() Kind { return c.kind }

// Self returns the component's actor name; see the package function Self.
func (c Context) Self() string { return Self() }

// Log writes msg to the component's log at level; see the package function
// Log.
func (c Context) Log(level Level, msg string) { Log(level, msg) }
