package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// loadRoute is loadRaw for a route whose answers vary: a closed loop of
// one worker per request in reqs, each on its own keep-alive connection,
// for duration, where an answer counts when it is a 200 whose body holds
// want.
func loadRoute(ctx context.Context, addr string, reqs [][]byte, want string, duration time.Duration) (*roundResult, error) {
	workers := make([]roundResult, len(reqs))
	start := time.Now()
	end := start.Add(duration)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i].hist = histogram.New()
		wg.Go(func() { routeWork(ctx, addr, reqs[i], []byte(want), end, &workers[i]) })
	}
	wg.Wait()
	total := &roundResult{elapsed: time.Since(start), hist: histogram.New()}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range workers {
		total.merge(&workers[i])
	}
	return total, nil
}

// routeWork is rawWork with loadRoute's check of the answer.
func routeWork(ctx context.Context, addr string, req, want []byte, end time.Time, res *roundResult) {
	fail := func(err error) {
		res.errors++
		if len(res.samples) < maxErrorSamples {
			res.samples = append(res.samples, err.Error())
		}
	}
	var conn *rawConn
	defer func() { conn.close() }()
	body := make([]byte, 0, 512)
	for first := true; first || time.Now().Before(end) && ctx.Err() == nil; first = false {
		if conn == nil {
			c, err := dialRaw(ctx, addr, end.Add(requestGrace))
			if err != nil {
				fail(err)
				time.Sleep(10 * time.Millisecond) // a refused dial returns at once
				continue
			}
			conn = c
		}
		begin := time.Now()
		resp, err := conn.roundTrip(req, body)
		took := time.Since(begin)
		if err != nil {
			fail(err)
			conn.close()
			conn = nil
			continue
		}
		body = resp.body[:0]
		if resp.status != 200 || !bytes.Contains(resp.body, want) {
			fail(fmt.Errorf("status %d, body %.120q", resp.status, resp.body))
		} else {
			res.requests++
			res.hist.Record(took)
		}
		if resp.close {
			conn.close()
			conn = nil
		}
	}
}
