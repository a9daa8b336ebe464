package main

import (
	"fmt"
	"io"
	"strings"
)

// showcaseReport is the outcome of a showcase run: a pinned run whose
// targets are routes of one server, the native route first, the baseline
// of the ratios.
type showcaseReport struct {
	pinnedReport
	startRSS, endRSS uint64
}

// write prints the run's context and a Markdown table for
// docs/benchmarks.md, led by each route's server CPU per request and its
// ratio to the native route's.
func (r *showcaseReport) write(w io.Writer) error {
	var b strings.Builder
	s := r.settings
	r.writeContext(&b, "the showcase (examples/showcase, rate limits off)")
	fmt.Fprintf(&b, "load:     closed loop, %d keep-alive connections, %d×%s rounds per route taking turns after a %s warm-up\n",
		s.Concurrency, s.Rounds, s.Duration, s.Warmup)
	fmt.Fprintf(&b, "memory:   RSS %s at start, %s after load\n", mebibytes(r.startRSS), mebibytes(r.endRSS))
	r.writeRounds(&b)
	base := 0.0
	if len(r.targets) > 0 {
		base = median(r.targets[0].cpuPerRequest)
	}
	fmt.Fprintf(&b, "\n| route (same run) | req/s (median of %d) | server CPU per request | ratio to native | p50 | p99 | server core busy | generator core busy | errors |\n", s.Rounds)
	b.WriteString("|:--|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range r.targets {
		h := t.total.hist
		fmt.Fprintf(&b, "| %s | %s | %.1f µs | %s | %s | %s | %.0f%% | %.0f%% | %d |\n",
			t.name, thousands(median(t.rps)), median(t.cpuPerRequest), ratio(median(t.cpuPerRequest), base),
			millis(h.Quantile(0.50)), millis(h.Quantile(0.99)), 100*median(t.serverBusy), 100*median(t.generatorBusy), t.total.errors)
	}
	r.writeFailures(&b)
	_, err := io.WriteString(w, b.String())
	return err
}
