package main

import (
	"time"
)

// measureBroadcast subscribes n connections to the room, has the server
// publish rate messages per second for d, and measures each delivery from
// the moment of publication to its arrival, and the server's CPU time per
// delivered message.
func measureBroadcast(p *serverProc, c *clients, n, dialers, rate int, d time.Duration) (latencyResult, error) {
	rec := newRecorder(time.Now(), time.Now().Add(24*time.Hour))
	conns, _, err := openMany(c, n, dialers, true, rec.got)
	if err != nil {
		return latencyResult{}, err
	}
	defer func() {
		closeAll(conns)
		_ = p.waitConns(0, time.Minute)
	}()
	if err := p.waitConns(n, time.Minute); err != nil {
		return latencyResult{}, err
	}
	count := int(float64(rate) * d.Seconds())
	cpu0 := serverCPU(p)
	if err := p.publish(count, rate); err != nil {
		return latencyResult{}, err
	}
	expected := int64(count) * int64(n)
	rec.waitFor(expected, 10*time.Second)
	return rec.result(expected, serverCPU(p)-cpu0), nil
}
