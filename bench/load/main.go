// Command load measures the whole service from outside: requests per
// second, latency percentiles and — in the pinned mode — the server's CPU
// time per request and memory, of Troupe against a bare Echo serving the same
// handler, in one run, so the figure that matters — their ratio — is free of
// machine-to-machine noise.
//
//	go run ./bench/load [-duration 5s] [-rounds 3] [-concurrency 32] [-warmup 1s]
//	go run ./bench/load -pinned [-server-cpu 1] [-client-cpu 0] [flags above]
//
// Each target gets a warm-up round, then the targets take turns, one round
// each, so drift (thermal, noisy neighbours, GC) falls on all alike. The
// load is a closed loop: -concurrency workers on keep-alive connections, each
// sending its next GET as soon as the previous body is read.
//
// By default (the in-process mode) bare Echo and the quickstart service run
// in this process beside a net/http load generator, all sharing the CPUs:
// compare the ratios, not the absolute numbers, and know that the
// generator's share of the CPU hides part of the server's cost.
//
// With -pinned, each server — bare Echo, Troupe defaults and Troupe full
// (JWT, Cedar, rate limits, breaker, bulkhead) — runs alone in a process of
// its own binary (./cmd/bare-echo, ./cmd/troupe, built with the go command
// at the start of the run) confined to -server-cpu with GOMAXPROCS=1, and
// this process, the load generator (raw HTTP/1.1, like wrk), is confined to
// -client-cpu. The report then adds each server's CPU time per request
// (utime+stime from /proc/<pid>/stat over the requests it answered) and its
// resident memory after start and after load. Linux only.
//
// The output ends with a Markdown table for docs/benchmarks.md. The exit
// status is non-zero when any request failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// settings are the command's flags.
type settings struct {
	Duration    time.Duration // of each measured round, per target
	Rounds      int           // measured rounds per target
	Concurrency int           // closed-loop workers, one connection each
	Warmup      time.Duration // of the unmeasured first round, per target
	Pinned      bool          // servers in their own processes, pinned
	ServerCPU   int           // the pinned servers' CPU
	ClientCPU   int           // the pinned generator's CPU
	Showcase    bool          // the showcase's native and WASM routes, pinned (showcase.go)
}

// validate rejects settings that would measure nothing.
func (s settings) validate() error {
	var errs []error
	if s.Duration <= 0 {
		errs = append(errs, fmt.Errorf("-duration must be positive, got %s", s.Duration))
	}
	if s.Rounds < 1 {
		errs = append(errs, fmt.Errorf("-rounds must be at least 1, got %d", s.Rounds))
	}
	if s.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("-concurrency must be at least 1, got %d", s.Concurrency))
	}
	if s.Warmup < 0 {
		errs = append(errs, fmt.Errorf("-warmup must not be negative, got %s", s.Warmup))
	}
	if (s.Pinned || s.Showcase) && (s.ServerCPU < 0 || s.ClientCPU < 0) {
		errs = append(errs, fmt.Errorf("-server-cpu and -client-cpu must not be negative, got %d and %d", s.ServerCPU, s.ClientCPU))
	}
	return errors.Join(errs...)
}

// command returns the command line that reproduces these settings.
func (s settings) command() string {
	pinned := ""
	switch {
	case s.Showcase:
		pinned = fmt.Sprintf(" -showcase -server-cpu %d -client-cpu %d", s.ServerCPU, s.ClientCPU)
	case s.Pinned:
		pinned = fmt.Sprintf(" -pinned -server-cpu %d -client-cpu %d", s.ServerCPU, s.ClientCPU)
	}
	return fmt.Sprintf("go run ./bench/load%s -duration %s -rounds %d -concurrency %d -warmup %s",
		pinned, s.Duration, s.Rounds, s.Concurrency, s.Warmup)
}

// cli parses args, runs the measurement until done or interrupted, and
// returns the exit status: 0 on success, 1 when the run failed or any
// request failed, 2 on bad usage.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s settings
	fs.DurationVar(&s.Duration, "duration", 5*time.Second, "length of each measured round, per target")
	fs.IntVar(&s.Rounds, "rounds", 3, "measured rounds per target; the targets take turns")
	fs.IntVar(&s.Concurrency, "concurrency", 32, "closed-loop workers, each on its own keep-alive connection")
	fs.DurationVar(&s.Warmup, "warmup", time.Second, "length of the unmeasured warm-up round, per target")
	fs.BoolVar(&s.Pinned, "pinned", false, "run each server in its own process pinned to -server-cpu, the generator pinned to -client-cpu, and report server CPU per request and RSS")
	fs.BoolVar(&s.Showcase, "showcase", false, "run examples/showcase pinned like -pinned and compare its native GET /api/v2/notes/:id with its WASM GET /api/v2/notes/:id/summary")
	fs.IntVar(&s.ServerCPU, "server-cpu", 1, "with -pinned: the CPU every server process is confined to")
	fs.IntVar(&s.ClientCPU, "client-cpu", 0, "with -pinned: the CPU the load generator is confined to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := s.validate(); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rep interface{ errors() uint64 }
	var err error
	switch {
	case s.Showcase:
		rep, err = runShowcase(ctx, s, stdout)
	case s.Pinned:
		rep, err = runPinned(ctx, s, stdout)
	default:
		rep, err = run(ctx, s, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	if n := rep.errors(); n > 0 {
		fmt.Fprintf(stderr, "load: %d requests failed\n", n)
		return 1
	}
	return 0
}

// run starts both targets, warms each up, loads them in turns for s.Rounds
// rounds, writes progress and the final report to out, and shuts both down.
// Failed requests do not make it fail: they are counted in the report.
func run(ctx context.Context, s settings, out io.Writer) (rep *report, err error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	bare, err := startBare(s.Concurrency)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, bare.close()) }()
	troupe, err := startTroupe(s.Concurrency)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, troupe.close()) }()

	targets := []*target{bare, troupe}
	results := make([]*targetReport, len(targets))
	for i, t := range targets {
		results[i] = newTargetReport(t.name)
		if s.Warmup <= 0 {
			continue
		}
		res, err := load(ctx, t, s.Warmup, s.Concurrency)
		if err != nil {
			return nil, err
		}
		results[i].addWarmup(res)
	}
	for round := 1; round <= s.Rounds; round++ {
		for i, t := range targets {
			// Each round starts from a clean heap, so neither target pays
			// for the other's garbage.
			runtime.GC()
			res, err := load(ctx, t, s.Duration, s.Concurrency)
			if err != nil {
				return nil, err
			}
			results[i].addRound(res)
			_, err = fmt.Fprintf(out, "round %d/%d  %-18s %9.0f req/s  p50 %s  p99 %s  errors %d\n",
				round, s.Rounds, t.name, res.rps(), millis(res.hist.Quantile(0.50)), millis(res.hist.Quantile(0.99)), res.errors)
			if err != nil {
				return nil, err
			}
		}
	}
	rep = &report{settings: s, env: currentEnvironment(), targets: results}
	if err := rep.write(out); err != nil {
		return nil, err
	}
	return rep, nil
}
