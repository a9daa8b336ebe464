package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// pinnedTarget accumulates one server's measured rounds in the pinned mode.
type pinnedTarget struct {
	name          string
	rps           []float64   // requests/s of each measured round
	cpuPerRequest []float64   // server µs per request, each round
	serverBusy    []float64   // share of the server's core used, each round
	generatorBusy []float64   // share of the generator's core used, each round
	total         roundResult // the measured rounds merged, plus warm-up failures
	startRSS      uint64      // VmRSS once the server listened, before any load
	endRSS        uint64      // VmRSS after the last round
}

// addRound merges a measured round.
func (t *pinnedTarget) addRound(r *pinnedRound) {
	t.rps = append(t.rps, r.result.rps())
	t.cpuPerRequest = append(t.cpuPerRequest, r.cpuPerRequest())
	t.serverBusy = append(t.serverBusy, r.serverBusy())
	t.generatorBusy = append(t.generatorBusy, r.generatorBusy())
	t.total.merge(r.result)
}

// addWarmup keeps only a warm-up round's failures (see
// targetReport.addWarmup).
func (t *pinnedTarget) addWarmup(r *roundResult) {
	t.total.merge(&roundResult{errors: r.errors, samples: r.samples, hist: histogram.New()})
}

// pinnedReport is the outcome of a pinned run: the baseline (bare Echo)
// first.
type pinnedReport struct {
	settings              settings
	env                   environment // the generator's, while pinned
	loadBefore, loadAfter string      // /proc/loadavg around the run
	targets               []*pinnedTarget
}

// errors returns the number of failed requests over every target.
func (r *pinnedReport) errors() uint64 {
	var n uint64
	for _, t := range r.targets {
		n += t.total.errors
	}
	return n
}

// write prints the run's context and a Markdown table ready for
// docs/benchmarks.md: the columns first (req/s, ratio, server CPU
// per request, start RSS), then the ones that say how far to trust them.
func (r *pinnedReport) write(w io.Writer) error {
	var b strings.Builder
	s := r.settings
	r.writeContext(&b, "each server in its own process")
	fmt.Fprintf(&b, "load:     closed loop, %d keep-alive connections, GET %s (%d-byte JSON),\n"+
		"          %d×%s rounds per server taking turns after a %s warm-up\n",
		s.Concurrency, helloPath, len(wantBody)+1, s.Rounds, s.Duration, s.Warmup)
	r.writeRounds(&b)

	fmt.Fprintf(&b, "\n| server (same run) | req/s (median of %d) | ratio to %s | server CPU per request | over %s | start RSS | RSS after load | p50 | p99 | server core busy | generator core busy | errors |\n",
		s.Rounds, r.baseName(), r.baseName())
	b.WriteString("|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range r.targets {
		h := t.total.hist
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f µs | %s | %s | %s | %s | %s | %.0f%% | %.0f%% | %d |\n",
			t.name, thousands(median(t.rps)), ratio(median(t.rps), r.baseRPS()), median(t.cpuPerRequest), r.overBase(t),
			mebibytes(t.startRSS), mebibytes(t.endRSS), millis(h.Quantile(0.50)), millis(h.Quantile(0.99)),
			100*median(t.serverBusy), 100*median(t.generatorBusy), t.total.errors)
	}
	r.writeFailures(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeContext prints the run's command, machine and pinning, the
// server's side of it described by server.
func (r *pinnedReport) writeContext(b *strings.Builder, server string) {
	s := r.settings
	fmt.Fprintf(b, "\ncommand:  %s\n", s.command())
	fmt.Fprintf(b, "go:       %s %s, NumCPU=%d\n", r.env.goVersion, r.env.platform, r.env.numCPU)
	fmt.Fprintf(b, "cpu:      %s\n", r.env.cpu)
	fmt.Fprintf(b, "machine:  load average %s before, %s after (1, 5, 15 min)\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(b, "pinning:  %s on CPU %d with GOMAXPROCS=1; generator (Go, raw HTTP/1.1) on CPU %d with GOMAXPROCS=%d\n",
		server, s.ServerCPU, s.ClientCPU, r.env.maxProcs)
}

// writeRounds prints each target's req/s and server CPU round by round.
func (r *pinnedReport) writeRounds(b *strings.Builder) {
	for _, t := range r.targets {
		fmt.Fprintf(b, "per round, %s: req/s %s; server µs/req %s\n", t.name, joinFloats(t.rps, "%.0f"), joinFloats(t.cpuPerRequest, "%.1f"))
	}
}

// writeFailures prints a few failed requests of each target that had any.
func (r *pinnedReport) writeFailures(b *strings.Builder) {
	for _, t := range r.targets {
		if t.total.errors > 0 {
			fmt.Fprintf(b, "\n%s: %d failed requests, e.g.:\n", t.name, t.total.errors)
			for _, msg := range t.total.samples {
				fmt.Fprintf(b, "  %s\n", msg)
			}
		}
	}
}

func (r *pinnedReport) baseName() string {
	if len(r.targets) == 0 {
		return "baseline"
	}
	return r.targets[0].name
}

func (r *pinnedReport) baseRPS() float64 {
	if len(r.targets) == 0 {
		return 0
	}
	return median(r.targets[0].rps)
}

// overBase is t's server CPU per request above the baseline's, "—" for the
// baseline itself.
func (r *pinnedReport) overBase(t *pinnedTarget) string {
	if len(r.targets) == 0 || t == r.targets[0] {
		return "—"
	}
	return fmt.Sprintf("%+.1f µs", median(t.cpuPerRequest)-median(r.targets[0].cpuPerRequest))
}

// thousands formats v rounded to an integer, with comma separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// mebibytes formats a size in bytes as MiB with one decimal.
func mebibytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func joinFloats(vs []float64, format string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf(format, v)
	}
	return strings.Join(parts, ", ")
}
