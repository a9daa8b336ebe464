// Package wasm will run untrusted WASM components as sandboxed actors.
//
// Only the foundation exists so far: the strict Component.toml parser
// ([ParseManifest], [LoadManifest]) and the capability grammar
// ([ParseCapabilities], [CapabilitySet]). The wazero runtime, the host ABI,
// service wiring and the guest SDK are not built yet; nothing in this package
// executes a module today.
//
// A manifest is decoded strictly: an unknown key, a value out of range or a
// malformed capability is an error that names the offending key in dotted
// form (for example "runtime.max_memry_mb"), and every problem in the file is
// reported at once, so a component author fixes the manifest in one pass.
//
// Capabilities have the form kind:action:resource and are deny by default: a
// component may do only what a capability in its manifest grants.
//
//	file:read:/data/input           file:write:/data/out
//	network:outbound:api.example.com:443   network:outbound:[::1]:*
//	actor:send:billing               actor:request:*   actor:send:worker-*
//	topic:publish:orders.*           topic:subscribe:orders.>
//	kv:read:notes                    kv:write:notes
//
// File grants cover a directory's subtree and a write grant implies read
// access, because the grant will become a WASI mount and a writable mount is
// readable. KV grants do not imply each other: reads and writes are separate
// host calls, so they are granted separately.
package wasm
