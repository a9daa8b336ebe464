//go:build !(linux && amd64)

package actors

// readCounter is never called here: counterUsable is false, so stamps are
// monotonic-clock readings.
func readCounter() int64 { return 0 }

// counterUsable reports false: only Linux on amd64 tells (counter_linux_amd64.go).
func counterUsable() bool { return false }
