package service

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// garbage keeps the test's allocation reachable until it chooses to drop
// it, so the compiler cannot elide it.
var garbage []byte

// TestRunReturnsStartupGarbage checks that Run hands a large free heap
// back to the operating system before it reports the service started.
func TestRunReturnsStartupGarbage(t *testing.T) {
	garbage = make([]byte, 64<<20)
	garbage = nil
	runtime.GC() // the 64 MB is now free, and not yet returned
	if free := heapFreeBytes(); free < releaseThreshold {
		t.Skipf("the runtime already returned the free heap (%d bytes left)", free)
	}
	before := forcedGCs()
	start(t, nil)
	if after := forcedGCs(); after <= before {
		t.Errorf("forced collections: %d before start, %d once started; Run should release start-up garbage", before, after)
	}
	if free := heapFreeBytes(); free >= releaseThreshold {
		t.Errorf("%d bytes of free heap still held once started", free)
	}
}

// forcedGCs is how many collections the process has forced so far
// (runtime.GC counts too).
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
