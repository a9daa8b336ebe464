// Command actors benchmarks Troupe's actor runtime side by side with
// anthdm/hollywood and asynkron/protoactor-go. Every round runs every
// workload on every engine in turn (A B C, A B C, ...), so drift in the
// machine's state over the run hits all engines alike, and the report gives
// each engine's median over the rounds. See README.md for how to build it:
// the two peers cannot be linked together without a protobuf flag.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	// Lets both peers link into one binary; see its doc.
	_ "github.com/troupehq/troupe/bench/actors/internal/protoconflict"
)

// config is what the command line selects.
type config struct {
	rounds  int
	sizes   sizes
	engines []engineFactory
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res := run(cfg, os.Stderr)
	report(os.Stdout, cfg, res)
	if len(res.errs) > 0 {
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("actors", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds; each runs every workload on every engine in turn")
	quick := fs.Bool("quick", false, "tiny workloads: checks the harness, measures nothing meaningful")
	only := fs.String("engines", "", "comma-separated engines to run (default all: "+engineNames()+")")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if *rounds < 1 {
		return config{}, fmt.Errorf("-rounds must be at least 1, got %d", *rounds)
	}
	cfg := config{rounds: *rounds, sizes: defaultSizes, engines: engines}
	if *quick {
		cfg.sizes = quickSizes
	}
	if *only != "" {
		cfg.engines = nil
		for name := range strings.SplitSeq(*only, ",") {
			i := slices.IndexFunc(engines, func(f engineFactory) bool { return f.name == strings.TrimSpace(name) })
			if i < 0 {
				return config{}, fmt.Errorf("-engines: unknown engine %q (have %s)", name, engineNames())
			}
			cfg.engines = append(cfg.engines, engines[i])
		}
	}
	return cfg, nil
}

func engineNames() string {
	names := make([]string, len(engines))
	for i, f := range engines {
		names[i] = f.name
	}
	return strings.Join(names, ",")
}

// results holds every measurement, keyed by workload, metric and engine.
type results struct {
	metrics map[string][]metricKey // workload → its metrics in order
	values  map[metricKey]map[string][]float64
	errs    []string
}

type metricKey struct {
	workload, metric string
	higherBetter     bool
}

// run executes the rounds, logging progress to log. A failed run (lost
// messages, a wrong reply, a timeout) is recorded and the others go on, so
// one broken engine does not hide the rest of the comparison.
func run(cfg config, log io.Writer) *results {
	res := &results{metrics: map[string][]metricKey{}, values: map[metricKey]map[string][]float64{}}
	for round := 1; round <= cfg.rounds; round++ {
		fmt.Fprintf(log, "round %d/%d\n", round, cfg.rounds)
		for _, w := range workloads {
			for _, f := range cfg.engines {
				began := time.Now()
				ms, err := runOne(f, w, cfg.sizes)
				if err != nil {
					msg := fmt.Sprintf("round %d, %s, %s: %v", round, w.name, f.name, err)
					res.errs = append(res.errs, msg)
					fmt.Fprintln(log, "  INVALID:", msg)
					continue
				}
				fmt.Fprintf(log, "  %-22s %-11s %6.2fs\n", w.name, f.name, time.Since(began).Seconds())
				res.add(w.name, f.name, ms)
			}
		}
	}
	return res
}

// runOne runs w on a fresh instance of f, collecting the previous run's
// garbage first so that it is not charged to this one.
func runOne(f engineFactory, w workload, s sizes) ([]metric, error) {
	runtime.GC()
	e, err := f.new()
	if err != nil {
		return nil, fmt.Errorf("start engine: %w", err)
	}
	ms, err := w.run(e, s)
	if serr := e.Shutdown(); err == nil && serr != nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	return ms, err
}

func (r *results) add(workload, engine string, ms []metric) {
	for _, m := range ms {
		k := metricKey{workload, m.name, m.higherBetter}
		if r.values[k] == nil {
			r.values[k] = map[string][]float64{}
			r.metrics[workload] = append(r.metrics[workload], k)
		}
		r.values[k][engine] = append(r.values[k][engine], m.value)
	}
}
