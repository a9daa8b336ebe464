// Command idle measures the resident memory of Troupe's programs as their
// own processes: after start and after a burst of load, each field of
// /proc/<pid>/status's VmRSS, RssAnon and RssFile, and where the pages sit
// (the binary's text, rodata and data, other files, compiled WASM code, the
// heap and other anonymous memory) from /proc/<pid>/smaps. It is issue 19
// item 4's measure; docs/benchmarks.md records its figures.
//
//	go run ./bench/idle [-rounds 3] [-before /path/to/older/checkout]
//
// It runs from the module root and builds every target with go build, so
// each is a program of its own and its memory is its own.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/bench/internal/loadavg"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.only, "targets", "", "comma-separated targets to measure (default all: "+strings.Join(names(), ",")+")")
	flag.IntVar(&cfg.rounds, "rounds", 3, "fresh starts of each target; the report gives medians")
	flag.DurationVar(&cfg.settle, "settle", 2*time.Second, "wait after start and after the burst before reading memory")
	flag.DurationVar(&cfg.burst, "burst", 5*time.Second, "length of the load burst")
	flag.IntVar(&cfg.concurrency, "concurrency", 16, "keep-alive connections of the burst")
	flag.StringVar(&cfg.before, "before", "", "module root of an older checkout whose targets are measured too, interleaved, labelled \"(before)\"")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		os.Exit(1)
	}
}

type config struct {
	only        string
	rounds      int
	settle      time.Duration
	burst       time.Duration
	concurrency int
	before      string
}

func names() []string {
	var n []string
	for _, t := range targets {
		n = append(n, t.name)
	}
	return n
}

// build is one target built from one checkout.
type build struct {
	t     target
	label string
	dir   string // the checkout's module root: the process's working directory
	bin   string
	tmp   string // the process's cache and config home, kept across rounds
}

func run(cfg config) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("needs Linux (/proc), not %s", runtime.GOOS)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "troupe-idle-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	builds, err := buildAll(cfg, root, tmp)
	if err != nil {
		return err
	}
	loadBefore := loadavg.Read()
	results := make(map[string]*result)
	for _, b := range builds {
		if err := warm(b); err != nil {
			return err
		}
	}
	for round := range cfg.rounds {
		for _, b := range builds {
			r, err := measure(cfg, b)
			if err != nil {
				return fmt.Errorf("round %d: %w", round+1, err)
			}
			if results[b.label] == nil {
				results[b.label] = &result{label: b.label}
			}
			results[b.label].add(r)
		}
	}
	report(os.Stdout, cfg, builds, results, loadBefore, loadavg.Read())
	return nil
}

// buildAll builds the selected targets from root and, with -before, from
// the older checkout, interleaving them so each pair is measured side by
// side.
func buildAll(cfg config, root, tmp string) ([]build, error) {
	var builds []build
	for i, t := range targets {
		if cfg.only != "" && !slices.Contains(strings.Split(cfg.only, ","), t.name) {
			continue
		}
		dirs := []struct{ dir, label string }{{root, t.name}}
		if cfg.before != "" {
			dirs = append([]struct{ dir, label string }{{cfg.before, t.name + " (before)"}}, dirs...)
		}
		for j, d := range dirs {
			bin := filepath.Join(tmp, fmt.Sprintf("%d-%d-%s", i, j, filepath.Base(t.pkg)))
			cmd := exec.Command("go", "build", "-o", bin, t.pkg)
			cmd.Dir, cmd.Stdout, cmd.Stderr = d.dir, os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("building %s in %s: %w", t.pkg, d.dir, err)
			}
			home := filepath.Join(tmp, fmt.Sprintf("home-%d-%d", i, j))
			if err := os.MkdirAll(home, 0o755); err != nil {
				return nil, err
			}
			builds = append(builds, build{t: t, label: d.label, dir: d.dir, bin: bin, tmp: home})
		}
	}
	if len(builds) == 0 {
		return nil, fmt.Errorf("-targets %q names none of %s", cfg.only, strings.Join(names(), ", "))
	}
	return builds, nil
}

// warm starts and stops b once, unmeasured, so that what a first start
// does once per machine (building a component from source, filling the
// compiled-module cache) is done before the measured starts.
func warm(b build) error {
	p, err := start(b.t, b.bin, b.dir, b.tmp)
	if err != nil {
		return err
	}
	return p.stop()
}

// reading is one fresh start of a target: memory after start and after
// the burst, and what the burst did.
type reading struct {
	start, load memory
	requests    int
}

// measure starts b, reads its memory after cfg.settle, loads it for
// cfg.burst, reads again after cfg.settle, and stops it.
func measure(cfg config, b build) (reading, error) {
	p, err := start(b.t, b.bin, b.dir, b.tmp)
	if err != nil {
		return reading{}, err
	}
	var r reading
	err = func() error {
		time.Sleep(cfg.settle)
		if r.start, err = readMemory(p.pid); err != nil {
			return err
		}
		if r.requests, err = burst(p.addr, b.t.paths, cfg.concurrency, cfg.burst); err != nil {
			return fmt.Errorf("%s: %w", b.label, err)
		}
		time.Sleep(cfg.settle)
		r.load, err = readMemory(p.pid)
		return err
	}()
	if stopErr := p.stop(); err == nil {
		err = stopErr
	}
	return r, err
}
