package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// waitLimit bounds every wait for a workload to complete. A healthy engine
// finishes each run in seconds; reaching the limit means messages were lost
// or an actor is stuck, and the run is reported as invalid, not slow. It is
// a variable so the harness test can fail fast.
var waitLimit = 60 * time.Second

// sizes are the amounts of work in one run of each workload.
type sizes struct {
	OneToOne   int // messages from the single sender
	NToN       int // messages in total, split evenly across the pairs
	Requests   int // sequential round trips
	SpawnStops int // sequential spawn+stop cycles
	Idle       int // idle actors held at once
}

// defaultSizes keep a five-round run of all three engines within about three
// minutes on a laptop while each measurement lasts long enough (tenths of a
// second and more) to dwarf timer and scheduling noise.
var defaultSizes = sizes{OneToOne: 2_000_000, NToN: 2_000_000, Requests: 200_000, SpawnStops: 20_000, Idle: 100_000}

// quickSizes exercise every code path in well under a second; their numbers
// are not meaningful measurements.
var quickSizes = sizes{OneToOne: 20_000, NToN: 20_000, Requests: 2_000, SpawnStops: 200, Idle: 1_000}

// metric is one measured value of a workload run.
type metric struct {
	name         string // with its unit, e.g. "msgs/s"
	value        float64
	higherBetter bool
}

// workload is one benchmark, run against a fresh Engine.
type workload struct {
	name string
	run  func(e Engine, s sizes) ([]metric, error)
}

// workloads are the benchmarks in the order they run within a round. The
// throughput workloads run twice, with a zero-size message (which no engine
// allocates for) and with a small value (which costs every engine one
// allocation, as most real messages do); request/response runs with one
// context shared by every call and with a fresh deadline per call (what a
// caller inside an HTTP route has), so each ratio can be quoted with its
// conditions.
var workloads = []workload{
	{"send throughput 1→1, zero-size message", sendOneToOne(makePing)},
	{"send throughput 1→1, 16-byte value", sendOneToOne(makeValue)},
	{"send throughput N→N, zero-size message", sendNToN(makePing)},
	{"send throughput N→N, 16-byte value", sendNToN(makeValue)},
	{"request/response, one shared context", requestResponse(false)},
	{"request/response, fresh context.WithTimeout per call", requestResponse(true)},
	{"spawn+stop", spawnStop},
	{"idle memory", idleMemory},
}

// pairs is the number of sender/receiver pairs in the N→N workload: four per
// processor, so the engines' schedulers, not the core count, are the limit.
func pairs() int { return runtime.GOMAXPROCS(0) * 4 }

// sendOneToOne measures how fast one sender can push messages made by msg
// through one actor: the clock stops when the actor has processed the last
// one.
func sendOneToOne(msg func(int) any) func(Engine, sizes) ([]metric, error) {
	return func(e Engine, s sizes) ([]metric, error) {
		elapsed, err := pumpPairs(e, 1, s.OneToOne, msg)
		if err != nil {
			return nil, err
		}
		return []metric{{"msgs/s", float64(s.OneToOne) / elapsed.Seconds(), true}}, nil
	}
}

// sendNToN measures aggregate throughput of many independent pairs at once.
func sendNToN(msg func(int) any) func(Engine, sizes) ([]metric, error) {
	return func(e Engine, s sizes) ([]metric, error) {
		n := pairs()
		per := max(s.NToN/n, 1)
		elapsed, err := pumpPairs(e, n, per, msg)
		if err != nil {
			return nil, err
		}
		return []metric{{"msgs/s (aggregate)", float64(n*per) / elapsed.Seconds(), true}}, nil
	}
}

// pumpPairs spawns n counters, has one goroutine per counter send it per
// messages made by msg, and returns the time from the first send until every
// counter has seen all of its messages. It fails unless every count is exact.
func pumpPairs(e Engine, n, per int, msg func(int) any) (time.Duration, error) {
	counters := make([]Actor, n)
	dones := make([]chan struct{}, n)
	for i := range counters {
		dones[i] = make(chan struct{})
		a, err := e.SpawnCounter(per, dones[i])
		if err != nil {
			return 0, fmt.Errorf("spawn counter: %w", err)
		}
		counters[i] = a
	}
	start := make(chan struct{})
	sendErrs := make(chan error, n)
	var wg sync.WaitGroup
	for _, a := range counters {
		wg.Go(func() {
			<-start
			for i := range per {
				if err := a.Send(msg(i)); err != nil {
					sendErrs <- fmt.Errorf("send: %w", err)
					return
				}
			}
		})
	}
	began := time.Now()
	close(start)
	timeout := time.NewTimer(waitLimit)
	defer timeout.Stop()
	for i, done := range dones {
		select {
		case <-done:
		case err := <-sendErrs:
			return 0, err
		case <-timeout.C:
			return 0, fmt.Errorf("counter %d did not see all %d messages within %v: messages lost or stuck", i, per, waitLimit)
		}
	}
	elapsed := time.Since(began)
	wg.Wait()
	for i, a := range counters {
		if err := a.Stop(); err != nil {
			return 0, fmt.Errorf("stop counter: %w", err)
		}
		if got := a.Seen(); got != per {
			return 0, fmt.Errorf("counter %d saw %d messages, want exactly %d", i, got, per)
		}
	}
	return elapsed, nil
}

// requestResponse measures sequential round-trip latency from one caller to
// one actor: every call under one shared context, or, with perCall, each
// with a deadline of its own made the engine's way (see
// Actor.RequestWithin), its making timed as part of the call. A short
// warm-up is not recorded, so lazily built state (pools, registries) is not
// charged to the first requests.
func requestResponse(perCall bool) func(Engine, sizes) ([]metric, error) {
	return func(e Engine, s sizes) ([]metric, error) {
		echo, err := e.SpawnEcho()
		if err != nil {
			return nil, fmt.Errorf("spawn echo: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		p := &probe{}
		roundTrip := func() error {
			var reply any
			var err error
			if perCall {
				reply, err = echo.RequestWithin(requestTimeout, p)
			} else {
				reply, err = echo.Request(ctx, p)
			}
			if err != nil {
				return fmt.Errorf("request: %w", err)
			}
			return checkReply(reply, p)
		}
		for range min(s.Requests/10, 1000) {
			if err := roundTrip(); err != nil {
				return nil, err
			}
		}
		h := histogram.New()
		began := time.Now()
		for range s.Requests {
			t := time.Now()
			if err := roundTrip(); err != nil {
				return nil, err
			}
			h.Record(time.Since(t))
		}
		elapsed := time.Since(began)
		if err := echo.Stop(); err != nil {
			return nil, fmt.Errorf("stop echo: %w", err)
		}
		return []metric{
			{"p50 µs", micros(h.Quantile(0.50)), false},
			{"p99 µs", micros(h.Quantile(0.99)), false},
			{"round trips/s", float64(s.Requests) / elapsed.Seconds(), true},
		}, nil
	}
}

// spawnStop measures the full lifecycle of a short-lived actor: spawn, stop,
// and wait until it has stopped, one after another.
func spawnStop(e Engine, s sizes) ([]metric, error) {
	began := time.Now()
	if err := e.SpawnStop(s.SpawnStops); err != nil {
		return nil, err
	}
	return []metric{{"µs/op", micros(time.Since(began)) / float64(s.SpawnStops), false}}, nil
}

// idleMemory measures what an idle actor costs to keep: live heap, heap plus
// goroutine stacks (a runtime that parks a goroutine per actor pays in
// stacks, which HeapAlloc does not show), and goroutines.
func idleMemory(e Engine, s sizes) ([]metric, error) {
	before := memSnapshot()
	stopAll, err := e.SpawnIdle(s.Idle)
	if err != nil {
		return nil, err
	}
	after := memSnapshot()
	if err := stopAll(); err != nil {
		return nil, fmt.Errorf("stop idle actors: %w", err)
	}
	n := float64(s.Idle)
	return []metric{
		{"heap B/actor", float64(int64(after.heap)-int64(before.heap)) / n, false},
		{"heap+stack B/actor", float64(int64(after.heap+after.stack)-int64(before.heap+before.stack)) / n, false},
		{"goroutines/actor", float64(after.goroutines-before.goroutines) / n, false},
	}, nil
}

type mem struct {
	heap, stack uint64
	goroutines  int
}

// memSnapshot collects garbage twice (the second pass frees what the first
// one's finalizers released) and reads live memory.
func memSnapshot() mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapAlloc, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
