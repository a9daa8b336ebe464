package wasm

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// killedDeadline is what the watchdog swaps into instanceEnv.deadline when
// it stops a call: a time long past, so a blocking host call still running
// sees its deadline gone, and a value no real deadline takes, so the
// instance can tell a kill from a call that ended on its own.
const killedDeadline = 1

// exitCodeDeadline is the exit code of a module closed by the watchdog
// ("TDLN"), distinct from WASI exit codes and wazero's own, so a stray
// sys.ExitError in a log is recognisable.
const exitCodeDeadline uint32 = 0x54444c4e

// watchdog enforces per-call deadlines for every instance of a Runtime with
// one goroutine, because wazero's per-call context deadline costs a timer
// and ~8 allocations per call (measured: ~1.3 µs against ~0.46 µs with a
// context that has no Done channel). A message pays ~75–120 ns for it
// (docs/benchmarks.md).
//
// Cost: a call pays time.Now, two atomic adds on a shared counter and two
// atomic stores on its own deadline; no allocation, no lock. The goroutine
// sleeps on a channel while no call is in flight; while some are, it wakes
// every resolution and scans the instance table (O(instances), under a
// mutex that only registration also takes).
//
// Precision: a call is stopped between its deadline and one resolution
// later, plus scheduling delay and the time the guest takes to reach its
// next termination check: wazero compiles one into every loop header, and
// addEntryChecks (entrycheck.go) puts one at every function entry. A guest
// blocked in a host call is not interrupted by the close; the host call
// bounds its own wait by the same deadline. The resolution is a tenth of
// the smallest message timeout of any component loaded, at least 1 ms, and
// never grows back.
type watchdog struct {
	inflight atomic.Int64
	halted   atomic.Bool  // set by halt: no call may begin
	res      atomic.Int64 // time.Duration
	wake     chan struct{}
	done     chan struct{}
	exited   chan struct{}

	mu      sync.Mutex
	slots   []*instance
	free    []int
	victims []*instance // scan's scratch space; only the goroutine uses it
}

func newWatchdog() *watchdog {
	w := &watchdog{wake: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
	w.res.Store(int64(time.Second))
	go w.run()
	return w
}

// begin marks a call in flight, waking the goroutine on the first one. The
// caller stores its deadline first. It reports false, with nothing marked,
// once halt has run: the call must not start.
func (w *watchdog) begin() bool {
	if w.inflight.Add(1) == 1 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if w.halted.Load() {
		w.end()
		return false
	}
	return true
}

// end marks a call finished.
func (w *watchdog) end() { w.inflight.Add(-1) }

// register adds in to the table and tightens the resolution for its
// version's timeout.
func (w *watchdog) register(in *instance) {
	res := max(in.v.timeout/10, time.Millisecond)
	for {
		cur := w.res.Load()
		if int64(res) >= cur || w.res.CompareAndSwap(cur, int64(res)) {
			break
		}
	}
	w.mu.Lock()
	if n := len(w.free); n > 0 {
		in.wdID = w.free[n-1]
		w.free = w.free[:n-1]
		w.slots[in.wdID] = in
	} else {
		in.wdID = len(w.slots)
		w.slots = append(w.slots, in)
	}
	w.mu.Unlock()
}

// unregister removes in from the table.
func (w *watchdog) unregister(in *instance) {
	w.mu.Lock()
	if in.wdID < len(w.slots) && w.slots[in.wdID] == in {
		w.slots[in.wdID] = nil
		w.free = append(w.free, in.wdID)
	}
	w.mu.Unlock()
}

func (w *watchdog) run() {
	defer close(w.exited)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-w.wake:
		case <-w.done:
			return
		}
		for w.inflight.Load() > 0 {
			t.Reset(time.Duration(w.res.Load()))
			select {
			case <-t.C:
			case <-w.done:
				t.Stop()
				return
			}
			w.scan(time.Now().UnixNano())
		}
	}
}

// halt stops every call in flight, as if its deadline had passed, and
// makes begin refuse any new one. A call that began before the flag was
// set stored its deadline before, so the scan sees it; one that begins
// after sees the flag.
func (w *watchdog) halt() {
	w.halted.Store(true)
	w.stopPast(math.MaxInt64, nil)
}

// drained waits until no call is in flight, or ctx is done: a guest
// stopped by halt ends at its next termination check, one in a host call
// when the call returns (each bounds its wait by the call's deadline,
// which halt has made past).
func (w *watchdog) drained(ctx context.Context) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for w.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wasm: %d guest calls still running at close: %w", w.inflight.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// scan stops every call whose deadline is before now, in the goroutine's
// scratch space.
func (w *watchdog) scan(now int64) { w.victims = w.stopPast(now, w.victims) }

// stopPast stops every call whose deadline is before now, collecting them
// in victims, which it returns emptied for reuse. Claiming the call with a
// compare-and-swap on its deadline means a call that ended (or started
// anew) since the load is never stopped by mistake.
func (w *watchdog) stopPast(now int64, victims []*instance) []*instance {
	w.mu.Lock()
	for _, in := range w.slots {
		if in == nil {
			continue
		}
		d := in.env.deadline.Load()
		if d > killedDeadline && d <= now && in.env.deadline.CompareAndSwap(d, killedDeadline) {
			victims = append(victims, in)
		}
	}
	w.mu.Unlock()
	for i, in := range victims {
		// Close the outermost module of the call, whose termination checks
		// are the ones the guest's loops consult: the serve loop's or a
		// trampoline's, never the component's own (direct.go says why).
		mod := in.loopMod
		if t := in.direct.Load(); t != nil {
			mod = t.mod
		}
		_ = mod.CloseWithExitCode(context.Background(), exitCodeDeadline)
		victims[i] = nil
	}
	return victims[:0]
}

// stop ends the goroutine and waits for it.
func (w *watchdog) stop() {
	close(w.done)
	<-w.exited
}
