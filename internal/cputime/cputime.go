// Package cputime reads the CPU time the process has used, for benchmarks
// on a shared machine: a request/response benchmark's wall time there is
// mostly other processes' load, while the CPU it burns per operation —
// every goroutine and thread of the process, the runtime's included — is
// what a change adds or saves.
package cputime

import (
	"testing"
	"time"
)

// Used returns the user and system CPU time the process has used so far,
// or 0 where the platform cannot tell (then benchmarks report no figure).
func Used() time.Duration { return used() }

// PerOp reports, on b, the CPU time per operation since start (a Used
// reading taken when the timed loop began) as "cpu-ns/op", unless the
// platform cannot tell. Call it after the loop.
func PerOp(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(Used()-start)/float64(b.N), "cpu-ns/op")
}
