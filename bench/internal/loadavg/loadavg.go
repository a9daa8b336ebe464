// Package loadavg reads the machine's load average, which every
// benchmark report of this repository prints beside its figures: on a
// shared 2-core machine it says how far to trust them.
package loadavg

import (
	"os"
	"strings"
)

// Read returns the first three fields of /proc/loadavg (the 1, 5 and 15
// minute load averages), or "unknown".
func Read() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
