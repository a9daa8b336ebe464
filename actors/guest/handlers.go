package guest

import (
	"errors"
	"runtime/debug"
	"strconv"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Reply status bytes (docs/wasm-abi.md).
const (
	statusOK    = abi.StatusOK
	statusError = abi.StatusError
)

// registry holds a component's handlers and the buffer its replies are laid
// out in. The exported registration functions fill the package's one
// registry; tests build their own.
type registry struct {
	message func(Context, []byte) ([]byte, error)
	// http takes the raw kind 2 (JSON) or kind 4 (binary) message:
	// HandleHTTP wraps the handler with both codecs, so that components
	// serving no HTTP do not link them.
	http        func(Context, Kind, []byte) ([]byte, error)
	publication func(Context, string, []byte) error
	init        func() error
	health      func() error
	stop        func()
	// out holds the last reply, which the ABI requires to stay valid until
	// the next call into the guest.
	out buffer
}

var handlers registry

// mustRegister panics on a programming error in a registration, which runs
// in init, so the component fails to load with the message rather than
// misbehaving later.
func mustRegister(name string, isNil, taken bool) {
	if isNil {
		panic("guest: " + name + " called with a nil function")
	}
	if taken {
		panic("guest: " + name + " called twice")
	}
}

// Handle registers the handler of plain messages (kind 1), the payloads of
// Send and Request. The handler's reply is what Request returns; a nil reply
// is an empty one. msg aliases the SDK's receive buffer and is valid only
// until the handler returns: copy it to keep it. Call Handle from an init
// function.
func Handle(h func(ctx Context, msg []byte) ([]byte, error)) {
	mustRegister("Handle", h == nil, handlers.message != nil)
	handlers.message = h
}

// HandleHTTP registers the handler of HTTP requests routed to the component
// with actors.Route (kind 4, or kind 2 from an older host). A nil response is 200 with no body; an error
// makes the host answer a generic 500 and log the error. Call HandleHTTP
// from an init function.
func HandleHTTP(h func(ctx Context, req *HTTPRequest) (*HTTPResponse, error)) {
	mustRegister("HandleHTTP", h == nil, handlers.http != nil)
	handlers.http = httpCodec(h)
}

// HandlePublication registers the handler of messages on the topics the
// component subscribed to with Subscribe (kind 3). data aliases the SDK's
// receive buffer and is valid only until the handler returns. Call
// HandlePublication from an init function.
func HandlePublication(h func(ctx Context, subject string, data []byte) error) {
	mustRegister("HandlePublication", h == nil, handlers.publication != nil)
	handlers.publication = h
}

// OnInit registers f to run once per instance, before its first message;
// an error fails the instance and its actor. It is the place for Subscribe.
// Call OnInit from an init function.
func OnInit(f func() error) {
	mustRegister("OnInit", f == nil, handlers.init != nil)
	handlers.init = f
}

// OnHealth registers f as the health check the host polls between
// messages; an error makes the supervisor restart the actor. Call OnHealth
// from an init function.
func OnHealth(f func() error) {
	mustRegister("OnHealth", f == nil, handlers.health != nil)
	handlers.health = f
}

// OnStop registers f to run once when the actor stops normally. Call OnStop
// from an init function.
func OnStop(f func()) {
	mustRegister("OnStop", f == nil, handlers.stop != nil)
	handlers.stop = f
}

// receive handles one message and returns the reply in the ABI's layout:
// empty for success without a payload, else a status byte and the payload or
// error message. The reply stays valid until the next receive.
func (r *registry) receive(kind Kind, msg []byte) []byte {
	payload, err := r.handle(kind, msg)
	switch {
	case err != nil:
		text := err.Error()
		if text == "" { // a lone status byte would read as no reply
			text = kind.String() + " handler failed"
		}
		return reply(&r.out, statusError, text)
	case len(payload) == 0:
		return nil
	}
	return reply(&r.out, statusOK, payload)
}

// handle runs the handler of kind. A panic becomes an error reply, so a bug
// in one message does not cost the instance; a runtime fatal error (out of
// memory) is not a panic and still traps, which the host handles.
func (r *registry) handle(kind Kind, msg []byte) (payload []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			msg := kind.String() + " handler panicked: " + panicText(v)
			Log(LevelError, "guest: "+msg+"\n"+string(debug.Stack()))
			payload, err = nil, errors.New(msg)
		}
	}()
	ctx := Context{kind: kind}
	switch kind {
	case KindMessage:
		if r.message != nil {
			return r.message(ctx, msg)
		}
	case KindHTTP, kindHTTPBinary:
		if r.http != nil {
			ctx.kind = KindHTTP
			return r.http(ctx, kind, msg)
		}
	case KindPublication:
		if r.publication != nil {
			subject, data, err := decodePublication(msg)
			if err != nil {
				return nil, err
			}
			return nil, r.publication(ctx, subject, data)
		}
	}
	return nil, errors.New("component has no handler for " + kind.String() + " messages")
}

// httpCodec wraps an HTTP handler with the decoding of kind 2 (JSON) and
// kind 4 (binary) messages and the encoding of its responses in the same
// layout.
func httpCodec(h func(Context, *HTTPRequest) (*HTTPResponse, error)) func(Context, Kind, []byte) ([]byte, error) {
	// scratch holds the encoded response until receive copies it into the
	// reply buffer: one buffer for every response, no allocation.
	var scratch []byte
	return func(ctx Context, kind Kind, msg []byte) ([]byte, error) {
		req, err := decodeRequest(kind, msg)
		if err != nil {
			return nil, errors.New("malformed HTTP request: " + err.Error())
		}
		resp, err := h(ctx, req)
		if err != nil {
			return nil, err
		}
		if resp == nil {
			resp = &HTTPResponse{}
		}
		// The host discards an instance over a bad status, an ABI
		// violation; a handler's bug costs only its request this way.
		if resp.Status != 0 && (resp.Status < 100 || resp.Status > 999) {
			return nil, errors.New("HTTP handler returned status " + strconv.Itoa(resp.Status) + ", not a 3-digit code")
		}
		if kind == kindHTTPBinary {
			scratch = abi.AppendHTTPResponse(scratch[:0], resp)
		} else {
			scratch = encodeHTTPResponse(scratch[:0], resp)
		}
		out := scratch
		if cap(scratch) > retainBytes {
			scratch = nil // one large response does not pin its memory: see buffer.get
		}
		return out, nil
	}
}

// decodeRequest decodes an HTTP request of either layout.
func decodeRequest(kind Kind, msg []byte) (*HTTPRequest, error) {
	if kind == kindHTTPBinary {
		return abi.DecodeHTTPRequest(msg)
	}
	var req HTTPRequest
	if err := decodeHTTPRequest(msg, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// panicText renders a recovered value without fmt, which would add a
// tenth to every module; the types panics carry in practice are covered.
func panicText(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	case interface{ String() string }:
		return v.String()
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return "a value of a type other than error, string, Stringer or integer"
}

// errShortPublication is the error for a kind 3 message whose subject
// length does not fit the message.
var errShortPublication = errors.New("malformed publication: subject length exceeds the message")

// decodePublication splits a kind 3 message, a u32 subject length, the
// subject and the payload.
func decodePublication(msg []byte) (subject string, data []byte, err error) {
	subject, data, ok := abi.SplitPublication(msg)
	if !ok {
		return "", nil, errShortPublication
	}
	return subject, data, nil
}

// runInit runs the OnInit hook and returns the troupe_init result.
func (r *registry) runInit() int32 { return runHook("init", r.init) }

// runHealth runs the OnHealth hook and returns the troupe_health result.
func (r *registry) runHealth() int32 { return runHook("health check", r.health) }

// runStop runs the OnStop hook.
func (r *registry) runStop() {
	if r.stop != nil {
		runHook("stop", func() error { r.stop(); return nil })
	}
}

// runHook runs f, absent meaning success, and returns 0 on success and 1
// when f fails or panics, after logging why, since the host sees only the
// number.
func runHook(name string, f func() error) (code int32) {
	if f == nil {
		return 0
	}
	defer func() {
		if v := recover(); v != nil {
			Log(LevelError, "guest: "+name+" panicked: "+panicText(v)+"\n"+string(debug.Stack()))
			code = 1
		}
	}()
	if err := f(); err != nil {
		Log(LevelError, "guest: "+name+" failed: "+err.Error())
		return 1
	}
	return 0
}
