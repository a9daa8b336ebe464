package actors

import (
	"bytes"
	"os"
)

// readCounter reads the time-stamp counter (RDTSC, unfenced: a stamp may
// be taken a few dozen cycles early or late, nothing next to the
// hundreds of nanoseconds a message takes).
func readCounter() int64

// counterUsable reports whether stamps may be counter readings: where the
// kernel keeps its own clock on the TSC, it has checked that the counter
// is invariant and agrees between processors, and has not since found it
// unstable (it would have moved to another clock source).
func counterUsable() bool {
	src, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	return err == nil && string(bytes.TrimSpace(src)) == "tsc"
}
