package actors

import (
	"context"
	"testing"
	"time"
)

// TestRequestAllocations pins what Request itself allocates, apart from the
// caller's context: with no deadline, at most the start of the actor's drain
// goroutine; with a fresh deadline per call, at most that and the context's
// Done channel, which the context makes when Request first asks for it to
// wait on. A timer, a goroutine or a registration with the context per call
// would show here. The context's own making (context.WithTimeout: four
// allocations in Go 1.26) is measured alone and subtracted, so the pin holds
// whatever the standard library's count.
func TestRequestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not the program's under the race detector (sync.Pool drops at random)")
	}
	s := newTestSystem(t)
	ref, err := s.Spawn("", echoer)
	if err != nil {
		t.Fatal(err)
	}
	request := func(ctx context.Context) {
		if _, err := s.Request(ctx, ref, 1); err != nil {
			t.Fatal(err)
		}
	}
	allocs := func(f func()) float64 {
		f() // warm the pools
		return testing.AllocsPerRun(500, f)
	}

	background := allocs(func() { request(context.Background()) })
	if background > 1 {
		t.Errorf("Request without a deadline allocates %v times, want at most 1 (the drain's start)", background)
	}
	making := allocs(func() {
		_, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cancel()
	})
	perCall := allocs(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		request(ctx)
		cancel()
	})
	if own := perCall - making; own > 2 {
		t.Errorf("Request with a fresh deadline allocates %v times besides the context's own %v, want at most 2 (the drain's start and the Done channel)", own, making)
	}
}
