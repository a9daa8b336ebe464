package guest

import (
	"encoding/json"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Header is a set of HTTP header fields, keyed by canonical name
// ("Content-Type"), as the host sends them. It has the shape of
// net/http.Header without importing net/http, which would bloat every
// guest: Get, Set and Add canonicalise the key as net/http does.
type Header = abi.Header

// HTTPRequest is an HTTP request routed to the component (kind 4 in the
// ABI's binary layout, which the SDK asks for, or kind 2 in its JSON form
// from a host that predates it): Method, Route (the route template, such as
// "/api/v2/notes/:id/summary"), Params (the path parameters by name),
// Query, Header, Body, RemoteIP (the client's address as the host's proxy
// rules resolve it) and Principal (the authenticated caller, nil for an
// anonymous request). Param and QueryValue read a parameter's first value.
type HTTPRequest = abi.HTTPRequest

// Principal is the authenticated party behind an HTTP request: Subject,
// Kind, Roles and Scopes (always arrays, empty rather than absent).
type Principal = abi.Principal

// HTTPResponse is a component's answer to an HTTP request: Status, Header
// and Body. Status 0 means 200. To fail with a client error, return a
// response with that status; returning an error from the handler makes the
// host answer a generic 500.
type HTTPResponse = abi.HTTPResponse

// JSONResponse returns a response with the given status whose body is v
// encoded as JSON, with Content-Type application/json. It uses
// encoding/json, which costs a guest tens of microseconds per response;
// on a hot route, write the body with JSONWriter instead (see the package
// doc).
func JSONResponse(status int, v any) (*HTTPResponse, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &HTTPResponse{
		Status: status,
		Header: Header{"Content-Type": {"application/json"}},
		Body:   body,
	}, nil
}
