package natsnode

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrUnavailable is the cause of every error that means "NATS cannot be
// reached now": the node is connecting, reconnecting or closed. The
// condition is transient (the node reconnects forever until Close), so a
// caller fails fast and lets its own caller retry; the actor runtime maps
// it to actors.ErrUnavailable. Match it with errors.Is, or classify an
// error from nats.go with IsUnavailable.
var ErrUnavailable = errors.New("NATS unavailable")

// unavailableError says why and for how long NATS has been unavailable.
type unavailableError struct {
	status nats.Status
	since  time.Time // zero when never connected
	cause  error     // the last connection error, or nil
}

func (e *unavailableError) Error() string {
	msg := "NATS unavailable: " + statusName(e.status)
	if !e.since.IsZero() {
		msg += fmt.Sprintf(" for %s", time.Since(e.since).Round(time.Millisecond))
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Is makes the error match ErrUnavailable.
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the last connection error.
func (e *unavailableError) Unwrap() error { return e.cause }

// IsUnavailable reports whether err means NATS cannot be reached now:
// ErrUnavailable, or one of nats.go's errors for a connection that is
// closed, draining or reconnecting. While reconnecting a node's connection
// buffers nothing, so a publish fails at once with
// nats.ErrReconnectBufExceeded, which counts too.
func IsUnavailable(err error) bool {
	for _, target := range []error{
		ErrUnavailable, nats.ErrConnectionClosed, nats.ErrConnectionDraining,
		nats.ErrConnectionReconnecting, nats.ErrReconnectBufExceeded, nats.ErrNoServers,
		nats.ErrDisconnected,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// statusName is the word for a connection status in errors and logs.
func statusName(s nats.Status) string {
	switch s {
	case nats.CONNECTING:
		return "connecting"
	case nats.RECONNECTING, nats.DISCONNECTED:
		return "reconnecting"
	case nats.DRAINING_SUBS, nats.DRAINING_PUBS:
		return "draining"
	case nats.CLOSED:
		return "closed"
	}
	return "connected"
}
