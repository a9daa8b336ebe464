// Package guest is the Go SDK for writing Troupe WASM components: actors
// whose code is a WebAssembly module, run sandboxed by the host with only
// the capabilities its Component.toml grants.
//
// A component is a main package built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o echo.wasm .
//
// In dev mode the host builds it from source when the .wasm is missing.
// The package's main is empty: a reactor never runs it. Handlers are
// registered in init functions, which run when the host instantiates the
// module, before the first message:
//
//	package main
//
//	import (
//		"errors"
//		"strconv"
//
//		"github.com/troupehq/troupe/actors/guest"
//	)
//
//	func init() {
//		guest.Handle(count)
//	}
//
//	// count counts the "inc" messages it receives, in KV so that the count
//	// survives a restart. It needs kv:read:counter and kv:write:counter.
//	func count(ctx guest.Context, msg []byte) ([]byte, error) {
//		n := 0
//		v, err := guest.KVGet("counter", "count")
//		switch {
//		case err == nil:
//			if n, err = strconv.Atoi(string(v)); err != nil {
//				return nil, err
//			}
//		case !errors.Is(err, guest.ErrNotFound):
//			return nil, err
//		}
//		if string(msg) == "inc" {
//			n++
//			if err := guest.KVPut("counter", "count", []byte(strconv.Itoa(n))); err != nil {
//				return nil, err
//			}
//		}
//		return []byte(strconv.Itoa(n)), nil
//	}
//
//	func main() {}
//
// # Messages
//
// Handle receives plain messages (Send and Request), HandleHTTP receives
// HTTP requests routed to the component with actors.Route, and
// HandlePublication receives messages on topics the component subscribed
// to with Subscribe. A message of a kind with no handler gets an error
// reply. An instance handles one message at a time. A handler's error is
// returned to the caller as an error reply (for HTTP, a generic 500 whose
// cause is logged, never sent); a handler's panic is recovered and becomes
// an error reply too, with the stack in the component's log. A runtime
// fatal error, such as running out of memory, traps instead: the host
// discards the instance and the supervisor restarts the actor with fresh
// memory, so state that must survive belongs in KV.
//
// OnInit, OnHealth and OnStop register the instance's lifecycle hooks.
//
// # Host calls
//
// Send, Request, Publish, Subscribe, KVGet, KVPut, KVDelete and Fetch reach
// the host and are checked against the manifest's capabilities; a denied
// call returns an error matching ErrDenied (see Error for the other codes).
// Log, Now, Random and Self need no capability. Go's own time.Now, crypto
// random and stdout work too: WASI provides real clocks and random, and
// stdout and stderr go to the component's log.
//
// The package also builds for other platforms, where every host call fails
// with ErrUnavailable, so that a component's pure logic can be unit-tested
// with go test. The ABI is specified in docs/wasm-abi.md.
package guest
