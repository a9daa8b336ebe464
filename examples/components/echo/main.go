// Command echo is a WASM component that replies to every message with the
// message itself. It handles plain messages only; an HTTP request routed to
// it gets an error reply.
package main

import "github.com/troupehq/troupe/actors/guest"

func init() {
	guest.Handle(func(_ guest.Context, msg []byte) ([]byte, error) {
		// The SDK copies the reply out before it reuses msg's buffer.
		return msg, nil
	})
}

// main is empty: a component is a reactor, driven by the host through the
// handlers registered in init.
func main() {}
