// Command greeter is a WASM component serving an HTTP route. GET with the
// path parameter name answers {"greeting":"hello, <name>"}; an
// authenticated caller is named in "from". Other methods get 405.
package main

import "github.com/troupehq/troupe/actors/guest"

// greeting is the response body.
type greeting struct {
	Greeting string `json:"greeting"`
	From     string `json:"from,omitempty"`
}

func init() {
	guest.HandleHTTP(greet)
}

func greet(_ guest.Context, req *guest.HTTPRequest) (*guest.HTTPResponse, error) {
	if req.Method != "GET" {
		return &guest.HTTPResponse{Status: 405, Header: guest.Header{"Allow": {"GET"}}}, nil
	}
	name := req.Param("name")
	if name == "" {
		name = "world"
	}
	g := greeting{Greeting: "hello, " + name}
	if p := req.Principal; p != nil {
		g.From = p.Subject
	}
	return guest.JSONResponse(200, g)
}

// main is empty: a component is a reactor, driven by the host through the
// handlers registered in init.
func main() {}
