package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// report writes the environment and one markdown table per workload: each
// engine's median over the rounds and Troupe's ratio to the best peer.
func report(w io.Writer, cfg config, res *results) {
	fmt.Fprintf(w, "# Actor runtimes side by side\n\n")
	fmt.Fprintf(w, "- Go: %s %s/%s, GOMAXPROCS=%d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "- CPU: %s\n", cpuModel())
	fmt.Fprintf(w, "- Engines: %s\n", engineVersions(cfg.engines))
	fmt.Fprintf(w, "- Rounds: %d (engines take turns within each workload of each round; medians reported)\n", cfg.rounds)
	s := cfg.sizes
	fmt.Fprintf(w, "- Sizes: 1→1 %d msgs; N→N %d pairs × %d msgs; %d round trips; %d spawn+stop; %d idle actors\n",
		s.OneToOne, pairs(), max(s.NToN/pairs(), 1), s.Requests, s.SpawnStops, s.Idle)
	for _, wl := range workloads {
		keys := res.metrics[wl.name]
		if len(keys) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n| metric |", wl.name)
		for _, f := range cfg.engines {
			fmt.Fprintf(w, " %s |", f.name)
		}
		fmt.Fprintf(w, " troupe / best peer |\n|---|%s---|\n", strings.Repeat("---:|", len(cfg.engines)))
		for _, k := range keys {
			better := "lower is better"
			if k.higherBetter {
				better = "higher is better"
			}
			fmt.Fprintf(w, "| %s (%s) |", k.metric, better)
			for _, f := range cfg.engines {
				fmt.Fprintf(w, " %s |", formatValue(res.values[k][f.name]))
			}
			fmt.Fprintf(w, " %s |\n", ratio(k, res.values[k]))
		}
	}
	if len(res.errs) > 0 {
		fmt.Fprintf(w, "\n## Invalid runs (excluded from the medians)\n\n")
		for _, e := range res.errs {
			fmt.Fprintf(w, "- %s\n", e)
		}
	}
}

// median returns the middle value (the mean of the two middle ones for an
// even count), or NaN when there is none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func formatValue(vs []float64) string {
	v := median(vs)
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1f k", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// ratio compares Troupe's median with the best peer's, saying whether the
// ratio is good news, since for some metrics higher is better.
func ratio(k metricKey, byEngine map[string][]float64) string {
	t := median(byEngine["troupe"])
	best, bestName := math.NaN(), ""
	for name, vs := range byEngine {
		v := median(vs)
		if name == "troupe" || math.IsNaN(v) {
			continue
		}
		if math.IsNaN(best) || (k.higherBetter && v > best) || (!k.higherBetter && v < best) {
			best, bestName = v, name
		}
	}
	if math.IsNaN(t) || math.IsNaN(best) || best == 0 {
		return "—"
	}
	r := t / best
	verdict := "worse"
	if r == 1 || (k.higherBetter == (r > 1)) {
		verdict = "better"
	}
	return fmt.Sprintf("%.2f× vs %s (%s)", r, bestName, verdict)
}

// cpuModel reads the processor name on Linux and falls back to the
// architecture elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return runtime.GOARCH
}

// modulePaths maps engine names to the modules whose versions the report
// names, so a reader knows exactly what was compared.
var modulePaths = map[string]string{
	"troupe":     "github.com/troupehq/troupe",
	"hollywood":  "github.com/anthdm/hollywood",
	"protoactor": "github.com/asynkron/protoactor-go",
}

func engineVersions(fs []engineFactory) string {
	versions := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v = "local " + d.Replace.Path
			}
			versions[d.Path] = v
		}
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		v := versions[modulePaths[f.name]]
		if v == "" {
			v = "unknown version"
		}
		parts[i] = fmt.Sprintf("%s (%s)", f.name, v)
	}
	return strings.Join(parts, ", ")
}
