package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// openMany opens n connections with dialers at a time, starts each one's
// reader with got, and returns them with the time the opening took. The
// first failure stops the opening and closes what was opened.
func openMany(c *clients, n, dialers int, room bool, got func(ts int64, at time.Time)) ([]*conn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conns := make([]*conn, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	start := time.Now()
	for range min(dialers, n) {
		wg.Go(func() {
			for i := range next {
				cn, err := c.dial(ctx, i, room)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("connection %d: %w", i, err); cancel() })
					continue
				}
				conns[i] = cn
				go cn.read(got)
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	took := time.Since(start)
	if first != nil {
		closeAll(conns)
		return nil, 0, first
	}
	return conns, took, nil
}

// closeAll closes every connection at once, without a close handshake:
// the server sees the socket end, as it would from a client that vanished.
func closeAll(conns []*conn) {
	for _, cn := range conns {
		if cn != nil {
			_ = cn.ws.CloseNow()
		}
	}
}
