package wasm

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/problem"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Publication is a message published on a topic. A guest's publish host
// call publishes one with System.Publish; a component subscribed to the
// subject receives it as kind 3, and a native subscriber receives the value
// itself.
type Publication struct {
	Subject string
	Data    []byte
}

// A component's publication crosses the cluster like any message (see
// actors.RegisterMessage), as "wasm.publication"; its Data travels as
// base64 in JSON. So does a guest's error reply, as "wasm.guest_error":
// a component is a pool member in a cluster, and its error reply to a
// request from another node was otherwise refused as an unregistered
// type, the guest's message lost.
func init() {
	actors.RegisterMessage[Publication]("wasm.publication")
	actors.RegisterMessage[*GuestError]("wasm.guest_error")
}

// ErrTrap is wrapped by the failure of an instance that trapped
// (unreachable, an out-of-bounds access, stack exhaustion, a failed memory
// growth the guest turned into a trap).
var ErrTrap = errors.New("wasm: guest trapped")

// ErrClosed is wrapped by the failure of a call that Runtime.Close
// stopped, or refused because the runtime was closing.
var ErrClosed = errors.New("wasm: runtime closed")

// ErrMessageTooLarge is wrapped by the error reply to a message longer than
// Limits.MaxMessageBytes; the message never reaches the guest.
var ErrMessageTooLarge = errors.New("wasm: message too large")

// ErrGuestOutOfMemory is wrapped by the error reply to a message for which
// troupe_alloc returned 0. The guest keeps running: running out of memory
// for one message is the guest's to recover from.
var ErrGuestOutOfMemory = errors.New("wasm: guest could not allocate the message")

// ErrMemoryCap is wrapped by the load error of a component whose
// runtime.max_memory_mb is over RuntimeOptions.MaxMemoryMB.
var ErrMemoryCap = errors.New("memory limit over the cap")

// ABIError is an ABI violation by a guest: a reply pointer out of bounds, a
// reply over the limit, an HTTP reply that is not JSON, a missing or
// mistyped export. The instance that committed it is discarded.
type ABIError struct {
	Component string
	Reason    string
}

// Error names the component and what it got wrong.
func (e *ABIError) Error() string {
	return fmt.Sprintf("wasm: component %q violated the ABI: %s", e.Component, e.Reason)
}

// GuestError is a guest's error reply (status byte 1). It is a normal
// answer, not a failure: the instance stays. It arrives as the reply value
// of System.Request (whose own error stays nil, as for any actor replying
// with an error), and actors.Route answers it with a generic 500, so
// Message reaches logs but never the client.
type GuestError struct {
	Component string
	Message   string
}

// Error returns the guest's message, prefixed with the component.
func (e *GuestError) Error() string {
	return fmt.Sprintf("wasm: component %q: %s", e.Component, e.Message)
}

// encodeHTTPRequest renders r as the kind 2 JSON message, or, for a guest
// that asked for it, appends the kind 4 binary message to buf.
func encodeHTTPRequest(r *actors.HTTPRequest, binary bool, buf []byte) ([]byte, error) {
	m := abi.HTTPRequest{
		Method: r.Method, Route: r.Route, Params: r.Params, Query: r.Query,
		Header: abi.Header(r.Header), Body: r.Body, RemoteIP: r.RemoteIP,
	}
	if p := r.Principal; p != nil {
		m.Principal = &abi.Principal{
			Subject: p.Subject, Kind: string(p.Kind),
			Roles: nonNil(p.Roles), Scopes: nonNil(p.Scopes),
		}
	}
	if binary {
		return abi.AppendHTTPRequest(buf, &m), nil
	}
	return json.Marshal(&m)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeHTTPResponse parses an ok reply payload to a kind 2 message (JSON)
// or a kind 4 message (binary). A status outside 100–999 (other than 0,
// which means 200) is an error, since net/http would panic on it.
func decodeHTTPResponse(payload []byte, binary bool) (*actors.HTTPResponse, error) {
	var m abi.HTTPResponse
	if binary {
		r, err := abi.DecodeHTTPResponse(payload)
		if err != nil {
			return nil, fmt.Errorf("HTTP reply is not a binary response: %w", err)
		}
		m = *r
	} else if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("HTTP reply is not valid JSON: %w", err)
	}
	if m.Status == 0 {
		m.Status = http.StatusOK
	}
	if m.Status < 100 || m.Status > 999 {
		return nil, fmt.Errorf("HTTP reply status %d is not a valid status code", m.Status)
	}
	return &actors.HTTPResponse{Status: m.Status, Header: http.Header(m.Header), Body: m.Body}, nil
}

// decodeReply reads a kind 1 reply view: its payload, copied out of guest
// memory (nil when empty), or the guest's error reply.
func decodeReply(component string, view []byte) ([]byte, *GuestError) {
	switch {
	case len(view) == 0 || len(view) == 1 && view[0] == abi.StatusOK:
		return nil, nil
	case view[0] == abi.StatusError:
		return nil, &GuestError{Component: component, Message: string(view[1:])}
	}
	return bytes.Clone(view[1:]), nil
}

// asProblem turns a component's RFC 9457 answer into a *problem.Error, so
// that the service renders it like every other error, with the request ID
// and instance its own problems carry. Only a plain problem converts: a
// reply with headers beyond Content-Type (a Retry-After, say) or a body
// that is not a problem is passed through as the component wrote it. As
// for any handler's error, only a 4xx detail reaches the client; a 5xx
// gets the service's generic detail and its own is kept as the logged
// cause.
func asProblem(resp *actors.HTTPResponse) any {
	h := http.Header(resp.Header)
	if resp.Status < 400 || len(h) != 1 || !strings.HasPrefix(h.Get("Content-Type"), problem.ContentType) {
		return resp
	}
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(resp.Body, &p) != nil {
		return resp
	}
	status := resp.Status
	if status > 599 {
		status = http.StatusInternalServerError
	}
	pe := problem.NewError(status, cmp.Or(p.Detail, p.Title))
	if status >= 500 {
		pe.Err = errors.New(cmp.Or(pe.Detail, pe.Title))
		pe.Detail = serverErrorDetail
	} else if pe.Detail == pe.Title {
		pe.Detail = ""
	}
	return pe
}

// serverErrorDetail is the client-visible detail of a component's 5xx
// problem: the one the service's error handler gives every 5xx whose
// detail it cannot trust.
const serverErrorDetail = "The server could not complete the request."

// publicationLen is the size of p framed as a kind 3 message.
func publicationLen(p *Publication) int {
	return abi.PublicationHeaderLen + len(p.Subject) + len(p.Data)
}
