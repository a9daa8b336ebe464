package service

import (
	"runtime/metrics"
	"testing"
)

// TestRunReturnsStartupGarbage checks that Run hands the heap start-up
// freed back to the operating system before it reports the service
// started: debug.FreeOSMemory is the one forced collection Run makes.
func TestRunReturnsStartupGarbage(t *testing.T) {
	before := forcedGCs()
	start(t, nil)
	if after := forcedGCs(); after <= before {
		t.Errorf("forced collections: %d before start, %d once started; Run should release start-up garbage", before, after)
	}
}

// forcedGCs is how many collections the process has forced so far.
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
