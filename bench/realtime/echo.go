package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Echo's schedule: a warm-up whose replies are not recorded, and this many
// goroutines sending, each to its share of the connections.
const (
	echoWarmup  = 2 * time.Second
	echoSenders = 16
)

// measureEcho opens n connections and sends rate messages per second
// across them for the warm-up and then d. The schedule is open-loop: each
// message is stamped with the time it was due, not the time it went out,
// so a server that falls behind is charged for the whole delay.
func measureEcho(p *serverProc, c *clients, n, dialers, rate int, d time.Duration) (latencyResult, error) {
	rec := newRecorder(time.Unix(0, 0), time.Unix(0, 0)) // nothing until the window is set
	conns, _, err := openMany(c, n, dialers, false, rec.got)
	if err != nil {
		return latencyResult{}, err
	}
	defer func() {
		closeAll(conns)
		_ = p.waitConns(0, time.Minute)
	}()
	start := time.Now().Add(100 * time.Millisecond)
	from, until := start.Add(echoWarmup), start.Add(echoWarmup+d)
	rec.window(from, until)
	var sent atomic.Int64
	var cpu [2]time.Duration
	var wg sync.WaitGroup
	for s := range echoSenders {
		var mine []*conn
		for i := s; i < n; i += echoSenders {
			mine = append(mine, conns[i])
		}
		wg.Go(func() { sent.Add(pace(mine, float64(rate)/echoSenders, start, from, until)) })
	}
	time.Sleep(time.Until(from))
	cpu[0] = serverCPU(p)
	wg.Wait()
	rec.waitFor(sent.Load(), 5*time.Second)
	cpu[1] = serverCPU(p)
	return rec.result(sent.Load(), cpu[1]-cpu[0]), nil
}

// pace sends to conns in turn at rate per second from start to until and
// returns how many messages due in [from, until) were sent.
func pace(conns []*conn, rate float64, start, from, until time.Time) int64 {
	if len(conns) == 0 {
		return 0
	}
	interval := time.Duration(float64(time.Second) / rate)
	var sent int64
	for k, due := 0, start; due.Before(until); k, due = k+1, due.Add(interval) {
		time.Sleep(time.Until(due))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := conns[k%len(conns)].echo(ctx, due)
		cancel()
		if err == nil && !due.Before(from) {
			sent++
		}
	}
	return sent
}

// serverCPU is the server process's CPU time so far; 0 if it cannot say.
func serverCPU(p *serverProc) time.Duration {
	s, err := p.stats(false)
	if err != nil {
		return 0
	}
	return time.Duration(s.CPU)
}
