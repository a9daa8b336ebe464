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
// # JSON and what a guest pays for
//
// A guest runs under the host's termination checks (wazero leaves the
// compiled code for Go at every loop iteration, ~27 ns), and Go's wasm
// port turns every jump between basic blocks into such an iteration, so
// branches and allocations, not bytes copied, set a guest's cost: a heap
// allocation costs ~1 µs, a small map several, reading JSON ~30–200 ns a
// byte, and encoding/json, which does all of these through reflection,
// ~280 µs to decode a 330-byte HTTP request. Hence:
//
//   - HTTP requests and responses need nothing: the SDK asks the host for
//     the binary layout (kind 4) and reads it field by field.
//   - Read flat JSON messages with ScanJSONObject (and a value's Object and
//     Array methods for nested ones), and write them with JSONWriter. Both
//     make one allocation per document.
//   - Keep encoding/json (and JSONResponse, which uses it) for rare or deeply
//     nested messages, and do not import net/http or fmt: each doubles a
//     module's size and start-up work.
//   - Build a response's fixed headers once, in a package variable: the SDK
//     only reads them.
//
// docs/components.md ("JSON in a guest") has the figures.
//
// The package also builds for other platforms, where every host call fails
// with ErrUnavailable, so that a component's pure logic can be unit-tested
// with go test. The ABI is specified in docs/wasm-abi.md.
package guest
