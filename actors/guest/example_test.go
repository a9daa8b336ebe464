package guest_test

import (
	"errors"
	"fmt"

	"github.com/troupehq/troupe/actors/guest"
)

// A component registers its handlers in init; the host calls them. This
// one reads a note from KV and treats a missing one as empty.
func ExampleHandle() {
	guest.Handle(func(ctx guest.Context, msg []byte) ([]byte, error) {
		note, err := guest.KVGet("notes", string(msg))
		if errors.Is(err, guest.ErrNotFound) {
			return nil, nil
		}
		return note, err
	})
}

// Host call errors carry an ABI code; the sentinels match every error of
// their code.
func ExampleError() {
	err := fmt.Errorf("saving note: %w", &guest.Error{Code: guest.CodeDenied, Message: "kv:write:notes"})
	fmt.Println(errors.Is(err, guest.ErrDenied))
	fmt.Println(errors.Is(err, guest.ErrNotFound))
	fmt.Println(err)
	// Output:
	// true
	// false
	// saving note: troupe: denied: kv:write:notes
}

// An HTTP handler answers with a response built by JSONResponse, or with
// its own status for a client error.
func ExampleJSONResponse() {
	greet := func(_ guest.Context, req *guest.HTTPRequest) (*guest.HTTPResponse, error) {
		if req.Param("name") == "" {
			return &guest.HTTPResponse{Status: 400}, nil
		}
		return guest.JSONResponse(200, map[string]string{"greeting": "hello, " + req.Param("name")})
	}
	resp, _ := greet(guest.Context{}, &guest.HTTPRequest{Method: "GET", Params: map[string]string{"name": "ada"}})
	fmt.Println(resp.Status, resp.Header.Get("content-type"), string(resp.Body))
	// Output:
	// 200 application/json {"greeting":"hello, ada"}
}
