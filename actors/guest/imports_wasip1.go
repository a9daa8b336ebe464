//go:build wasip1

package guest

import "unsafe"

// The host functions of module troupe (docs/wasm-abi.md). A string
// parameter is passed as the ABI's (ptr, len) pair; byte slices are passed
// explicitly through the wrappers below.

//go:wasmimport troupe result_read
func importResultRead(ptr unsafe.Pointer, n uint32) int64

//go:wasmimport troupe send
func importSend(name string, msg unsafe.Pointer, msgLen uint32) int64

//go:wasmimport troupe request
func importRequest(name string, msg unsafe.Pointer, msgLen uint32, timeoutMS int32) int64

//go:wasmimport troupe publish
func importPublish(subject string, msg unsafe.Pointer, msgLen uint32) int64

//go:wasmimport troupe subscribe
func importSubscribe(pattern string) int64

//go:wasmimport troupe log
func importLog(level int32, msg string) int64

//go:wasmimport troupe kv_get
func importKVGet(ns, key string) int64

//go:wasmimport troupe kv_put
func importKVPut(ns, key string, val unsafe.Pointer, valLen uint32) int64

//go:wasmimport troupe kv_delete
func importKVDelete(ns, key string) int64

//go:wasmimport troupe http_fetch
func importFetch(req unsafe.Pointer, reqLen uint32) int64

//go:wasmimport troupe now
func importNow() int64

//go:wasmimport troupe random
func importRandom(ptr unsafe.Pointer, n uint32) int64

//go:wasmimport troupe self
func importSelf() int64

// ptr returns b's address in linear memory, as the ABI passes it.
func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func hostResultRead(b []byte) int64 { return importResultRead(ptr(b), uint32(len(b))) }

func hostSend(name string, msg []byte) int64 { return importSend(name, ptr(msg), uint32(len(msg))) }

func hostRequest(name string, msg []byte, timeoutMS int32) int64 {
	return importRequest(name, ptr(msg), uint32(len(msg)), timeoutMS)
}

func hostPublish(subject string, msg []byte) int64 {
	return importPublish(subject, ptr(msg), uint32(len(msg)))
}

func hostSubscribe(pattern string) int64 { return importSubscribe(pattern) }

func hostLog(level int32, msg string) int64 { return importLog(level, msg) }

func hostKVGet(ns, key string) int64 { return importKVGet(ns, key) }

func hostKVPut(ns, key string, val []byte) int64 {
	return importKVPut(ns, key, ptr(val), uint32(len(val)))
}

func hostKVDelete(ns, key string) int64 { return importKVDelete(ns, key) }

func hostFetch(req []byte) int64 { return importFetch(ptr(req), uint32(len(req))) }

func hostNow() int64 { return importNow() }

func hostRandom(b []byte) int64 { return importRandom(ptr(b), uint32(len(b))) }

func hostSelf() int64 { return importSelf() }
