package wasm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/troupehq/troupe/actors"
)

// memSample is the process's memory at one moment.
type memSample struct {
	live      uint64 // Go heap objects (HeapAlloc)
	held      uint64 // Go heap memory not returned to the OS (HeapSys - HeapReleased)
	allocated uint64 // Go heap allocated since start (TotalAlloc)
	rss       int64  // resident set in bytes; -1 where /proc/self/status is missing
}

func sampleMemory() memSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{live: ms.HeapAlloc, held: ms.HeapSys - ms.HeapReleased, allocated: ms.TotalAlloc, rss: procStatus("VmRSS:")}
}

// procStatus returns a size field of /proc/self/status in bytes, or -1.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte(field)); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestFailedInstancesReturnTheirMemory is the scenario: a component
// that grows its memory to its 32 MiB cap and traps, restarted by its
// supervisor until it gives up. Every failed instance's memory must be
// gone when its instance is: not on the Go heap, not held by the process.
func TestFailedInstancesReturnTheirMemory(t *testing.T) {
	const restarts = 20 // the supervisor gives up at failure restarts+1
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sys := actors.NewSystem(actors.WithLogger(log), actors.WithDefaults(actors.Config{
		BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond, MaxRestarts: restarts, RestartWindow: time.Hour,
	}))
	rt := rtRuntime(t, RuntimeOptions{System: sys, Logger: log})
	m := rtComponent(t, t.TempDir(), "grower", rtCompileWAT(t, rtWAT(t, "mem_grow")), "max_memory_mb = 32")
	c, err := rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	goroutines := runtime.NumGoroutine()
	ref, err := rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	request := func(msg string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := sys.Request(ctx, ref, msg)
		return err
	}
	if err := request("x"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := sampleMemory()

	for i := range restarts + 1 {
		if err := request("g"); !errors.Is(err, ErrTrap) {
			t.Fatalf("failure %d: err = %v, want a trap", i+1, err)
		}
	}
	rtEventually(t, "the supervisor to give up", func() bool {
		_, err := sys.Lookup("grower")
		return err != nil
	})
	// The actor's goroutine, each instance's serve-loop coroutine and
	// wazero's watcher of its serve call all end with the instance.
	rtEventually(t, "the goroutines of the actor and its instances to end", func() bool {
		return runtime.NumGoroutine() <= goroutines
	})

	// No GC first: an idle process may not collect for two minutes, so
	// what it holds now is what an operator sees.
	after := sampleMemory()
	churn := int64(after.allocated - before.allocated)
	if limit := int64(restarts+1) << 20; churn > limit {
		t.Errorf("%d instances grown to 32 MiB allocated %.1f MiB of Go heap, want at most %.0f MiB: linear memory is on the Go heap",
			restarts+1, mib(churn), mib(limit))
	}
	if held, limit := int64(after.held)-int64(before.held), int64(16<<20); held > limit {
		t.Errorf("the Go heap holds %.1f MiB more than before the failures, want at most %.0f MiB", mib(held), mib(limit))
	}
	if before.rss >= 0 {
		if grown, limit := after.rss-before.rss, int64(16<<20); grown > limit {
			t.Errorf("RSS grew by %.1f MiB over the failures, want at most %.0f MiB", mib(grown), mib(limit))
		}
	}
	runtime.GC()
	live := int64(sampleMemory().live) - int64(before.live)
	if limit := int64(4 << 20); live > limit {
		t.Errorf("the live heap grew by %.1f MiB over the failures, want at most %.0f MiB: a failed instance is still referenced",
			mib(live), mib(limit))
	}
	t.Logf("over %d failures: Go heap allocated %.1f MiB, held %+.1f MiB, RSS %+.1f MiB; live heap after a GC %+.2f MiB",
		restarts+1, mib(churn), mib(int64(after.held)-int64(before.held)), mib(after.rss-before.rss), mib(live))
}

func TestLinearMemoryGrowsInPlace(t *testing.T) {
	var lm *linearMemory
	mem := linearAllocator(&lm).Allocate(64<<10, 1<<20)
	if lm == nil || mem != experimental.LinearMemory(lm) {
		t.Fatalf("Allocate = %T, want the mapped memory it recorded", mem)
	}
	defer lm.release()
	b := mem.Reallocate(64 << 10)
	b[0], b[len(b)-1] = 1, 2
	grown := mem.Reallocate(512 << 10)
	if len(grown) != 512<<10 || cap(grown) != len(grown) {
		t.Fatalf("grown to len %d cap %d, want both %d", len(grown), cap(grown), 512<<10)
	}
	if &grown[0] != &b[0] || grown[0] != 1 || grown[len(b)-1] != 2 {
		t.Error("growing moved or lost the memory")
	}
	grown[len(grown)-1] = 3 // the new pages are writable
	if mem.Reallocate(1<<20+64<<10) != nil {
		t.Error("Reallocate past the maximum succeeded")
	}
}

// Free runs when wazero closes the module, which may be under a guest
// still running: the memory must stay accessible until release.
func TestLinearMemoryFreeKeepsTheMapping(t *testing.T) {
	var lm *linearMemory
	mem := linearAllocator(&lm).Allocate(64<<10, 1<<20)
	b := mem.Reallocate(128 << 10)
	b[100] = 7
	mem.Free()
	if runtime.GOOS == "linux" && b[100] != 0 {
		t.Errorf("after Free the memory reads %d, want 0: its pages were not returned", b[100])
	}
	b[100] = 8 // a guest still running writes on
	mem.Free()
	lm.release()
	lm.release()
	mem.Free() // wazero closing a module after its instance released it
	if mem.Reallocate(64<<10) != nil {
		t.Error("Reallocate after release succeeded")
	}
}

func TestLinearMemoryFallsBackToTheHeap(t *testing.T) {
	for _, max := range []uint64{0, 1 << 62} { // no memory; more address space than there is
		var lm *linearMemory
		mem := linearAllocator(&lm).Allocate(0, max)
		if lm != nil {
			t.Fatalf("max %d: a mapping was made", max)
		}
		if b := mem.Reallocate(0); len(b) != 0 {
			t.Fatalf("max %d: Reallocate(0) = %d bytes", max, len(b))
		}
	}
	mem := linearAllocator(new(*linearMemory)).Allocate(64<<10, 1<<62)
	b := mem.Reallocate(64 << 10)
	b[0] = 1
	if b = mem.Reallocate(256 << 10); len(b) != 256<<10 || b[0] != 1 {
		t.Errorf("the heap memory grew to %d bytes, first byte %d", len(b), b[0])
	}
	h := &heapMemory{max: 64 << 10}
	if h.Reallocate(128<<10) != nil {
		t.Error("the heap memory grew past its maximum")
	}
}

// TestModuleClosedUnderARunningGuest stops a guest that grows and writes
// its memory, every way that happens: the watchdog stopping a direct call
// (troupe_health) or an _initialize, and Runtime.Close with a message in
// flight. Were the memory unmapped at close, the guest's next write would
// kill the process; were the component's own module closed under it, the
// race detector would report wazero freeing the memory during memory.grow
// (direct.go).
func TestModuleClosedUnderARunningGuest(t *testing.T) {
	wasm := rtCompileWAT(t, rtWAT(t, "mem_grow"))
	t.Run("_initialize", func(t *testing.T) {
		e := rtNew(t, RuntimeOptions{})
		src := strings.Replace(rtWAT(t, "mem_grow"), `(func (export "troupe_abi_v1"))`,
			`(func (export "troupe_abi_v1")) (func (export "_initialize") (call $fill) (call $scribble))`, 1)
		_, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "slow", rtCompileWAT(t, src),
			"max_memory_mb = 8\nmessage_timeout_ms = 100"))
		var timeout *actors.TimeoutError
		if !errors.As(err, &timeout) || !strings.Contains(err.Error(), "instantiating") || !strings.Contains(err.Error(), "_initialize") {
			t.Fatalf("Load = %v, want _initialize's timeout", err)
		}
	})
	t.Run("watchdog", func(t *testing.T) {
		e := rtNew(t, RuntimeOptions{})
		c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "sick", wasm,
			"max_memory_mb = 8\nmessage_timeout_ms = 100\nhealth_check_interval_ms = 5"))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := e.rt.Spawn(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.request(ref, "h"); err != nil {
			t.Fatal(err)
		}
		rtEventually(t, "the health check to time out", func() bool {
			return strings.Contains(e.log.String(), "reason=timeout")
		})
		if _, err := e.request(ref, "x"); err != nil {
			t.Errorf("after the restart: %v", err)
		}
	})
	t.Run("Runtime.Close", func(t *testing.T) {
		e := rtNew(t, RuntimeOptions{})
		c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "busy", wasm,
			"max_memory_mb = 8\nmessage_timeout_ms = 60000"))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := e.rt.Spawn(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		replied := make(chan error, 1)
		go func() {
			_, err := e.request(ref, "s")
			replied <- err
		}()
		rtEventually(t, "the message to run", func() bool { return e.rt.watchdog.inflight.Load() > 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// Close returns once the guest has stopped, before the runtime
		// closes under it.
		if n := e.rt.watchdog.inflight.Load(); n != 0 {
			t.Errorf("%d calls in flight after Close", n)
		}
		if err := <-replied; !errors.Is(err, ErrClosed) {
			t.Errorf("the request in flight got %v, want ErrClosed", err)
		}
	})
}

// TestFailedInitializeReleasesMemory loads a module whose _initialize
// traps, so that instantiation fails after the memory was made: its
// mapping must go with it, not only its pages.
func TestFailedInitializeReleasesMemory(t *testing.T) {
	if procStatus("VmSize:") < 0 {
		t.Skip("no /proc/self/status to read the address space from")
	}
	src := strings.Replace(rtWAT(t, "mem_grow"), `(func (export "troupe_abi_v1"))`,
		`(func (export "troupe_abi_v1")) (func (export "_initialize") unreachable)`, 1)
	wasm := rtCompileWAT(t, src)
	e := rtNew(t, RuntimeOptions{MaxMemoryMB: 256})
	const loads = 8
	before := procStatus("VmSize:")
	for i := range loads {
		_, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "init"+strconv.Itoa(i), wasm, "max_memory_mb = 256"))
		if err == nil || !strings.Contains(err.Error(), "instantiating") {
			t.Fatalf("Load = %v, want _initialize's trap", err)
		}
	}
	// Each leaked mapping would be 256 MiB of address space.
	if grown, limit := procStatus("VmSize:")-before, int64(128<<20); grown > limit {
		t.Errorf("the address space grew by %.0f MiB over %d failed instantiations, want at most %.0f MiB",
			mib(grown), loads, mib(limit))
	}
}
