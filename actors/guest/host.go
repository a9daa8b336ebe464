package guest

import (
	"math"
	"strconv"
	"time"
)

// maxErrorMessage bounds the host error message a failed call reads; the
// host's messages are one line.
const maxErrorMessage = 1024

// maxRandomChunk is the most bytes one random host call fills.
const maxRandomChunk = 65536

// Send sends msg to the actor named actor without waiting for a reply. It
// needs the capability actor:send:<actor>.
func Send(actor string, msg []byte) error {
	return status(hostSend(actor, msg))
}

// Request sends msg to the actor named actor and returns its reply. The wait
// is bounded by timeout (zero or less: no bound of its own) and by the
// current message's deadline, whichever comes first; past it the error
// matches ErrTimeout. An error reply from the actor matches ErrFailed. It
// needs the capability actor:request:<actor>.
func Request(actor string, msg []byte, timeout time.Duration) ([]byte, error) {
	return result(hostRequest(actor, msg, timeoutMS(timeout)))
}

// timeoutMS converts a timeout to the ABI's whole milliseconds, rounding a
// sub-millisecond timeout up rather than to "none".
func timeoutMS(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int32(min(ms, math.MaxInt32))
}

// Publish publishes data on subject. It needs the capability
// topic:publish:<subject>.
func Publish(subject string, data []byte) error {
	return status(hostPublish(subject, data))
}

// Subscribe subscribes the component's actor to pattern (NATS wildcards "*"
// and ">"); publications arrive at the HandlePublication handler. It needs a
// topic:subscribe grant covering pattern. Subscriptions end when the actor
// stops, so subscribe in OnInit, which runs again in a restarted instance.
func Subscribe(pattern string) error {
	return status(hostSubscribe(pattern))
}

// KVGet returns the value of key in the component's namespace ns; a missing
// key's error matches ErrNotFound. It needs the capability kv:read:<ns>.
func KVGet(ns, key string) ([]byte, error) {
	return result(hostKVGet(ns, key))
}

// KVPut stores value under key in the component's namespace ns. It needs the
// capability kv:write:<ns>.
func KVPut(ns, key string, value []byte) error {
	return status(hostKVPut(ns, key, value))
}

// KVDelete deletes key from the component's namespace ns; deleting a missing
// key succeeds. It needs the capability kv:write:<ns>.
func KVDelete(ns, key string) error {
	return status(hostKVDelete(ns, key))
}

// Log writes msg to the component's log at level. Records below the
// manifest's monitoring.log_level are dropped by the host. Logging cannot
// fail in a way a component could act on, so Log returns nothing.
func Log(level Level, msg string) {
	hostLog(int32(level), msg)
}

// Now returns the host's wall-clock time, or the zero Time outside a host.
func Now() time.Time {
	r := hostNow()
	if r < 0 {
		return time.Time{}
	}
	return time.Unix(0, r)
}

// Random fills b with bytes from the host's cryptographically secure random
// source.
func Random(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), maxRandomChunk)
		if err := status(hostRandom(b[:n])); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// self caches the actor name: it never changes for an instance.
var self string

// Self returns the component's actor name (for a pool, the pool's), or ""
// outside a host.
func Self() string {
	if self == "" {
		if b, err := result(hostSelf()); err == nil {
			self = string(b)
		}
	}
	return self
}

// status turns a host call's return into its error, ignoring any result.
func status(r int64) error {
	if r < 0 {
		return hostError(r)
	}
	return nil
}

// result turns a host call's return into its pending result, copied into a
// fresh slice the caller owns, or its error.
func result(r int64) ([]byte, error) {
	switch {
	case r < 0:
		return nil, hostError(r)
	case r == 0:
		return []byte{}, nil
	case r > math.MaxInt32:
		return nil, &Error{Code: CodeInvalid, Message: "host result length " + strconv.FormatInt(r, 10) + " exceeds the address space"}
	}
	b := make([]byte, r)
	if n := hostResultRead(b); n != r {
		return nil, &Error{Code: CodeInvalid, Message: "result_read copied " + strconv.FormatInt(n, 10) + " of " + strconv.FormatInt(r, 10) + " bytes"}
	}
	return b, nil
}

// hostError builds the error of a call that returned r < 0, reading the
// host's message from the pending result.
func hostError(r int64) error {
	code := CodeFailed
	if r >= -math.MaxInt32 {
		code = ErrorCode(-r)
	}
	var buf [maxErrorMessage]byte
	n := hostResultRead(buf[:])
	if n < 0 || n > int64(len(buf)) {
		n = 0
	}
	return &Error{Code: code, Message: string(buf[:n])}
}
