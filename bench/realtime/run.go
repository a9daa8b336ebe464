package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// result is one server's figures.
type result struct {
	kind      string
	idle      []idleResult
	echo      latencyResult
	broadcast latencyResult
}

// run measures every server in turn, one process at a time, and prints
// the report.
func run(o options) error {
	fmt.Printf("load before: %s\n", loadavg())
	var results []result
	for _, kind := range o.servers {
		r, err := measure(kind, o)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		results = append(results, r)
	}
	fmt.Printf("load after: %s\n\n", loadavg())
	report(os.Stdout, o, results)
	return nil
}

// measure runs every workload against kind. Each idle round has a server
// process of its own, so that what one round leaves behind (the runtime
// keeps goroutine descriptors and freed spans for reuse) does not hide in
// the next round's baseline; echo and broadcast share another.
func measure(kind string, o options) (result, error) {
	r := result{kind: kind}
	most := max(o.echoConns, o.bcastConns)
	for _, n := range o.idleConns {
		most = max(most, n)
	}
	tokens, err := tokens(most)
	if err != nil {
		return r, err
	}
	for _, n := range o.idleConns {
		fmt.Fprintf(os.Stderr, "%s: %d idle connections\n", kind, n)
		err := withServer(kind, tokens, o.sources, func(p *serverProc, c *clients) error {
			idle, err := measureIdle(p, c, n, o.dialers)
			r.idle = append(r.idle, idle)
			return err
		})
		if err != nil {
			return r, fmt.Errorf("idle: %w", err)
		}
	}
	err = withServer(kind, tokens, o.sources, func(p *serverProc, c *clients) error {
		fmt.Fprintf(os.Stderr, "%s: echo\n", kind)
		if r.echo, err = measureEcho(p, c, o.echoConns, o.dialers, o.echoRate, o.echoTime); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		fmt.Fprintf(os.Stderr, "%s: broadcast\n", kind)
		if r.broadcast, err = measureBroadcast(p, c, o.bcastConns, o.dialers, o.bcastRate, o.bcastTime); err != nil {
			return fmt.Errorf("broadcast: %w", err)
		}
		return nil
	})
	return r, err
}

// withServer runs f against a fresh server process of kind.
func withServer(kind string, tokens []string, sources int, f func(*serverProc, *clients) error) error {
	p, err := startServer(kind)
	if err != nil {
		return err
	}
	defer p.stop()
	return f(p, newClients(kind, p.hello, tokens, sources))
}

// loadavg is /proc/loadavg's three averages, or "unknown".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ") + " at " + time.Now().UTC().Format(time.RFC3339)
}
