package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// targetReport accumulates one target's measured rounds.
type targetReport struct {
	name  string
	rps   []float64   // requests/s of each measured round
	total roundResult // the measured rounds merged, plus warm-up failures
}

func newTargetReport(name string) *targetReport {
	return &targetReport{name: name, total: roundResult{hist: histogram.New()}}
}

// addRound merges a measured round.
func (t *targetReport) addRound(r *roundResult) {
	t.rps = append(t.rps, r.rps())
	t.total.merge(r)
}

// addWarmup keeps only a warm-up round's failures: its latencies are not
// measured, but a request that failed there failed all the same.
func (t *targetReport) addWarmup(r *roundResult) {
	t.total.merge(&roundResult{errors: r.errors, samples: r.samples, hist: histogram.New()})
}

// medianRPS is the median of the rounds' requests/s.
func (t *targetReport) medianRPS() float64 { return median(t.rps) }

// median returns the middle of vs (the mean of the two middle values for an
// even count), or 0 for none: one disturbed round moves it less than it
// would move a mean.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// report is the outcome of a run: the baseline (bare Echo) first.
type report struct {
	settings settings
	env      environment
	targets  []*targetReport
}

// errors returns the number of failed requests over every target.
func (r *report) errors() uint64 {
	var n uint64
	for _, t := range r.targets {
		n += t.total.errors
	}
	return n
}

// write prints the run's context and a Markdown table ready for
// docs/benchmarks.md, with a last row of ratios to the first target.
func (r *report) write(w io.Writer) error {
	var b strings.Builder
	s := r.settings
	fmt.Fprintf(&b, "\ncommand:  %s\n", s.command())
	fmt.Fprintf(&b, "go:       %s %s, GOMAXPROCS=%d, NumCPU=%d\n", r.env.goVersion, r.env.platform, r.env.maxProcs, r.env.numCPU)
	fmt.Fprintf(&b, "cpu:      %s\n", r.env.cpu)
	fmt.Fprintf(&b, "load:     closed loop, %d keep-alive connections per target, GET %s (%d-byte JSON),\n"+
		"          %d×%s rounds per target taking turns after a %s warm-up; client and servers share the process\n",
		s.Concurrency, helloPath, len(wantBody)+1, s.Rounds, s.Duration, s.Warmup)
	for _, t := range r.targets {
		fmt.Fprintf(&b, "req/s per round, %s: %s\n", t.name, joinFloats(t.rps, "%.0f"))
	}

	fmt.Fprintf(&b, "\n| target | requests | req/s (median of %d) | p50 | p99 | p99.9 | errors |\n", s.Rounds)
	b.WriteString("|:--|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range r.targets {
		h := t.total.hist
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %d |\n", t.name, t.total.requests, t.medianRPS(),
			millis(h.Quantile(0.50)), millis(h.Quantile(0.99)), millis(h.Quantile(0.999)), t.total.errors)
	}
	if len(r.targets) > 1 {
		base := r.targets[0]
		for _, t := range r.targets[1:] {
			fmt.Fprintf(&b, "| %s / %s | | %s | %s | %s | | |\n", t.name, base.name,
				ratio(t.medianRPS(), base.medianRPS()),
				ratio(t.total.hist.Quantile(0.50).Seconds(), base.total.hist.Quantile(0.50).Seconds()),
				ratio(t.total.hist.Quantile(0.99).Seconds(), base.total.hist.Quantile(0.99).Seconds()))
		}
	}
	for _, t := range r.targets {
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

// millis formats a latency in milliseconds, precise to the microsecond.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// ratio formats a/b as a factor, or "n/a" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// environment describes the machine a run measured, for the reader of the
// numbers.
type environment struct {
	goVersion string
	platform  string
	maxProcs  int
	numCPU    int
	cpu       string
}

func currentEnvironment() environment {
	return environment{
		goVersion: runtime.Version(),
		platform:  runtime.GOOS + "/" + runtime.GOARCH,
		maxProcs:  runtime.GOMAXPROCS(0),
		numCPU:    runtime.NumCPU(),
		cpu:       cpuModel("/proc/cpuinfo"),
	}
}

// cpuModel returns the first "model name" in a /proc/cpuinfo-style file, or
// "unknown" when there is none (another OS, or an architecture whose kernel
// does not report one).
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}
