//go:build wasip1

//lint:file-ignore U1000 the host calls the wasmexport functions; staticcheck cannot see that.

package guest

import "unsafe"

// inbox is the buffer troupe_alloc hands to the host. Holding it in a
// package variable keeps it reachable, hence unmoved and uncollected, until
// the troupe_receive that consumes it; the next troupe_alloc reuses it.
var inbox buffer

//go:wasmexport troupe_abi_v1
func exportABIv1() {}

// exportAlloc returns the message buffer. Go cannot report running out of
// memory as the ABI's 0: the runtime traps, and the host discards the
// instance, which is the ABI's answer to a trap.
//
// exportHTTPBinary asks the host for HTTP requests in the binary layout
// (kind 4), which the guest reads field by field instead of scanning JSON
// byte by byte (docs/wasm-abi.md).
//
//go:wasmexport troupe_http_binary
func exportHTTPBinary() {}

//go:wasmexport troupe_alloc
func exportAlloc(size int32) unsafe.Pointer {
	if size < 0 {
		return nil
	}
	// At least one byte, so that even an empty message gets a non-zero
	// pointer, which the host would read as out of memory.
	return unsafe.Pointer(unsafe.SliceData(inbox.get(max(int(size), 1))))
}

//go:wasmexport troupe_receive
func exportReceive(kind int32, p unsafe.Pointer, n int32) int64 {
	var out []byte
	if msg, ok := inbox.holds(p, int(n)); ok {
		out = handlers.receive(Kind(kind), msg)
	} else {
		out = reply(&handlers.out, statusError, "message is not in the buffer troupe_alloc returned")
	}
	if len(out) == 0 {
		return 0
	}
	return int64(uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))<<32 | uint64(len(out)))
}

//go:wasmexport troupe_init
func exportInit() int32 { return handlers.runInit() }

//go:wasmexport troupe_health
func exportHealth() int32 { return handlers.runHealth() }

//go:wasmexport troupe_stop
func exportStop() { handlers.runStop() }
