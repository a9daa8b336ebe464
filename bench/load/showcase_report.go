package main

import (
	"fmt"
	"io"
	"strings"
)

// showcaseReport is the outcome of a showcase run: the native route first,
// the baseline of the ratios.
type showcaseReport struct {
	settings              settings
	env                   environment
	loadBefore, loadAfter string
	startRSS, endRSS      uint64
	routes                []*pinnedTarget
}

// errors returns the number of failed requests over every route.
func (r *showcaseReport) errors() uint64 {
	var n uint64
	for _, t := range r.routes {
		n += t.total.errors
	}
	return n
}

// write prints the run's context and a Markdown table for
// docs/benchmarks.md, led by each route's server CPU per request and its
// ratio to the native route's.
func (r *showcaseReport) write(w io.Writer) error {
	var b strings.Builder
	s := r.settings
	fmt.Fprintf(&b, "\ncommand:  %s\n", s.command())
	fmt.Fprintf(&b, "go:       %s %s, NumCPU=%d\n", r.env.goVersion, r.env.platform, r.env.numCPU)
	fmt.Fprintf(&b, "cpu:      %s\n", r.env.cpu)
	fmt.Fprintf(&b, "machine:  load average %s before, %s after (1, 5, 15 min)\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(&b, "pinning:  the showcase (examples/showcase, rate limits off) on CPU %d with GOMAXPROCS=1; generator on CPU %d with GOMAXPROCS=%d\n",
		s.ServerCPU, s.ClientCPU, r.env.maxProcs)
	fmt.Fprintf(&b, "load:     closed loop, %d keep-alive connections, %d×%s rounds per route taking turns after a %s warm-up\n",
		s.Concurrency, s.Rounds, s.Duration, s.Warmup)
	fmt.Fprintf(&b, "memory:   RSS %s at start, %s after load\n", mebibytes(r.startRSS), mebibytes(r.endRSS))
	for _, t := range r.routes {
		fmt.Fprintf(&b, "per round, %s: req/s %s; server µs/req %s\n", t.name, joinFloats(t.rps, "%.0f"), joinFloats(t.cpuPerRequest, "%.1f"))
	}
	base := 0.0
	if len(r.routes) > 0 {
		base = median(r.routes[0].cpuPerRequest)
	}
	fmt.Fprintf(&b, "\n| route (same run) | req/s (median of %d) | server CPU per request | ratio to native | p50 | p99 | server core busy | generator core busy | errors |\n", s.Rounds)
	b.WriteString("|:--|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range r.routes {
		h := t.total.hist
		fmt.Fprintf(&b, "| %s | %s | %.1f µs | %s | %s | %s | %.0f%% | %.0f%% | %d |\n",
			t.name, thousands(median(t.rps)), median(t.cpuPerRequest), ratio(median(t.cpuPerRequest), base),
			millis(h.Quantile(0.50)), millis(h.Quantile(0.99)), 100*median(t.serverBusy), 100*median(t.generatorBusy), t.total.errors)
	}
	for _, t := range r.routes {
		if t.total.errors > 0 {
			fmt.Fprintf(&b, "\n%s: %d failed requests, e.g.:\n", t.name, t.total.errors)
			for _, msg := range t.total.samples {
				fmt.Fprintf(&b, "  %s\n", msg)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
