package main

import (
	"time"
)

// idleResult is what n idle connections cost a server.
type idleResult struct {
	conns      int
	heap       float64 // bytes of heap in use per connection
	stack      float64 // bytes of goroutine stacks per connection
	goroutines float64 // goroutines per connection
	upgrades   float64 // connections opened per second
}

// measureIdle opens n connections to the echo endpoint, which is the
// upgrade rate; then, once the server counts them and after a GC, divides
// the growth of its heap and stacks by n.
func measureIdle(p *serverProc, c *clients, n, dialers int) (idleResult, error) {
	before, err := p.stats(true)
	if err != nil {
		return idleResult{}, err
	}
	conns, took, err := openMany(c, n, dialers, false, nil)
	if err != nil {
		return idleResult{}, err
	}
	defer func() {
		closeAll(conns)
		_ = p.waitConns(0, time.Minute)
	}()
	if err := p.waitConns(n, time.Minute); err != nil {
		return idleResult{}, err
	}
	time.Sleep(time.Second) // handshakes' garbage and timers settle
	after, err := p.stats(true)
	if err != nil {
		return idleResult{}, err
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return idleResult{
		conns: n, heap: per(after.HeapInuse, before.HeapInuse), stack: per(after.StackInuse, before.StackInuse),
		goroutines: float64(after.Goroutines-before.Goroutines) / float64(n),
		upgrades:   float64(n) / took.Seconds(),
	}, nil
}
