//go:build !wasip1

package guest

// Outside wasip1 there is no host: every host call fails with
// CodeUnavailable and this message. The stubs let components and their
// pure logic build and be unit-tested on the developer's platform.
const noHost = "no WASM host: build the component with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared"

const unavailable = -int64(CodeUnavailable)

func hostResultRead(b []byte) int64 { return int64(copy(b, noHost)) }

func hostSend(string, []byte) int64 { return unavailable }

func hostRequest(string, []byte, int32) int64 { return unavailable }

func hostPublish(string, []byte) int64 { return unavailable }

func hostSubscribe(string) int64 { return unavailable }

func hostLog(int32, string) int64 { return unavailable }

func hostKVGet(string, string) int64 { return unavailable }

func hostKVPut(string, string, []byte) int64 { return unavailable }

func hostKVDelete(string, string) int64 { return unavailable }

func hostFetch([]byte) int64 { return unavailable }

func hostNow() int64 { return unavailable }

func hostRandom([]byte) int64 { return unavailable }

func hostSelf() int64 { return unavailable }
