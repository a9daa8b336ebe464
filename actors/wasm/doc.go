// Package wasm runs untrusted WASM components as sandboxed actors, on
// wazero, through the ABI in docs/wasm-abi.md.
//
// A component is a directory with a Component.toml and a core WebAssembly
// module. A [Runtime] loads it ([Runtime.Load], [Runtime.LoadDir]),
// verifying the pinned sha256, compiling the module once (the compilation
// cache is shared, and file-backed with RuntimeOptions.CacheDir), checking
// the ABI exports and instantiating one instance as a load check. Then
// [Runtime.Spawn] starts its actor, named after the component: messages
// sent to it reach the guest's troupe_receive, and its reply comes back as
// the Request's reply. []byte, string and json.RawMessage arrive as is, an
// *actors.HTTPRequest (from actors.Route) as JSON, a [Publication] framed
// with its subject, any other value JSON-encoded. A guest's error reply
// arrives as a [*GuestError] reply value. [Component.Call] runs a message
// through an instance directly, with no actor: the component as a
// sandboxed function.
//
// Every instance has its own linear memory, capped by
// runtime.max_memory_mb and kept outside the Go heap, in a mapping that is
// unmapped when the instance is discarded (linear.go), and every call into
// it runs under
// runtime.message_timeout_ms. One watchdog goroutine per Runtime enforces
// the deadlines, so a message pays no timer, context or allocation for it,
// and messages reach the guest through a serve loop that stays inside one
// wasm call for the instance's life (serve.go), because wazero starts a
// goroutine for every call into a module that can be interrupted. A
// call past its deadline, a trap or an ABI violation ([*ABIError]) discards
// the instance and fails the actor: the pending Request gets the failure as
// its error (an *actors.PanicError wrapping a *actors.TimeoutError,
// [ErrTrap] or the *ABIError), and the supervisor restarts the actor with a
// fresh instance. WarmInstances keeps instantiated instances ready, so a
// restart takes one instead of instantiating.
//
// With runtime.max_cpu_cores above 1 the actor is a stateless pool: a
// router forwards each message to an idle worker, each with its own
// instance. With RuntimeOptions.ReloadInterval the runtime polls every
// component's manifest and module and hot-reloads a changed one: actors
// move to the new version between messages, and a version that fails to
// load leaves the old one serving.
//
// Host functions (module "troupe") check the component's capabilities,
// which are deny by default. A manifest is decoded strictly: an unknown
// key, a value out of range or a malformed capability is an error that
// names the offending key in dotted form (for example
// "runtime.max_memry_mb"), and every problem in the file is reported at
// once. Capabilities have the form kind:action:resource:
//
//	file:read:/data/input           file:write:/data/out
//	network:outbound:api.example.com:443   network:outbound:[::1]:*
//	actor:send:billing               actor:request:*   actor:send:worker-*
//	topic:publish:orders.*           topic:subscribe:orders.>
//	kv:read:notes                    kv:write:notes
//
// File grants cover a directory's subtree and a write grant implies read
// access, because the grant becomes a WASI mount and a writable mount is
// readable. KV grants do not imply each other: reads and writes are
// separate host calls, so they are granted separately.
package wasm
