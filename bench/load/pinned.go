package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
	"github.com/troupehq/troupe/bench/internal/loadavg"
)

// The pinned mode measures what the in-process mode cannot: a server's own
// CPU cost per request. Each server kind runs alone in a child process
// confined to one core (GOMAXPROCS=1), and this process, the load generator,
// is confined to another, so the generator never takes the server's CPU and
// the server's utime+stime divided by the requests it answered is its cost.

// runPinned starts every server kind in its own pinned process, pins this
// process to s.ClientCPU, warms each server up, loads them in turns for
// s.Rounds rounds, writes progress and the final report to out, and stops
// the servers. Failed requests do not make it fail: they are counted in the
// report.
func runPinned(ctx context.Context, s settings, out io.Writer) (rep *pinnedReport, err error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if err := checkCPUs(s.ServerCPU, s.ClientCPU); err != nil {
		return nil, err
	}
	bindir, err := os.MkdirTemp("", "troupe-load-servers-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bindir)
	bins, err := buildServers(bindir, serverKinds)
	if err != nil {
		return nil, err
	}
	rep = &pinnedReport{settings: s, loadBefore: loadavg.Read()}
	var procs []*serverProcess
	defer func() {
		for _, p := range procs {
			err = errors.Join(err, p.stop())
		}
	}()
	reqs := make([][][]byte, len(serverKinds))
	for i, k := range serverKinds {
		p, t, err := startPinnedTarget(k, bins[k.pkg], s.ServerCPU)
		if p != nil {
			procs = append(procs, p)
		}
		if err != nil {
			return nil, err
		}
		rep.targets = append(rep.targets, t)
		if reqs[i], err = workerRequests(k, p.addr, s.Concurrency); err != nil {
			return nil, err
		}
	}

	restore, err := pinProcess(s.ClientCPU)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, restore()) }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rep.env = currentEnvironment()

	if err := pinnedRounds(ctx, s, procs, reqs, rep.targets, out); err != nil {
		return nil, err
	}
	if err := rep.finish(procs, out); err != nil {
		return nil, err
	}
	return rep, nil
}

// finish records each server's resident memory after the load and the
// machine's load average, and writes the report to out.
func (r *pinnedReport) finish(procs []*serverProcess, out io.Writer) error {
	for i, p := range procs {
		rss, err := processRSS(p.pid)
		if err != nil {
			return fmt.Errorf("%s: %w", p.kind.name, err)
		}
		r.targets[i].endRSS = rss
	}
	r.loadAfter = loadavg.Read()
	return r.write(out)
}

// startPinnedTarget starts kind's server binary bin pinned to cpu and
// records its resident memory at start. A process it returns must be
// stopped, even with an error.
func startPinnedTarget(kind serverKind, bin string, cpu int) (*serverProcess, *pinnedTarget, error) {
	p, err := startServerProcess(kind, bin, cpu)
	if err != nil {
		return nil, nil, err
	}
	t := &pinnedTarget{name: kind.name, total: roundResult{hist: histogram.New()}}
	if t.startRSS, err = processRSS(p.pid); err != nil {
		return p, nil, fmt.Errorf("%s: %w", kind.name, err)
	}
	return p, t, nil
}

// pinnedRounds warms every server up, then runs s.Rounds rounds in which
// the servers take turns, recording each round into targets.
func pinnedRounds(ctx context.Context, s settings, procs []*serverProcess, reqs [][][]byte, targets []*pinnedTarget, out io.Writer) error {
	if s.Warmup > 0 {
		for i, p := range procs {
			r, err := measureRound(ctx, p, reqs[i], s.Warmup)
			if err != nil {
				return err
			}
			targets[i].addWarmup(r.result)
		}
	}
	for round := 1; round <= s.Rounds; round++ {
		for i, p := range procs {
			runtime.GC() // the generator's garbage from the previous round is not this one's
			r, err := measureRound(ctx, p, reqs[i], s.Duration)
			if err != nil {
				return err
			}
			targets[i].addRound(r)
			_, err = fmt.Fprintf(out, "round %d/%d  %-16s %9.0f req/s  p50 %s  p99 %s  server %5.1f µs/req, core %3.0f%%  generator core %3.0f%%  errors %d\n",
				round, s.Rounds, p.kind.name, r.result.rps(), millis(r.result.hist.Quantile(0.50)), millis(r.result.hist.Quantile(0.99)),
				r.cpuPerRequest(), 100*r.serverBusy(), 100*r.generatorBusy(), r.result.errors)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// pinnedRound is one round against one server, with both sides' CPU time.
type pinnedRound struct {
	result    *roundResult
	serverCPU time.Duration // the server process's utime+stime during the round
	clientCPU time.Duration // this process's
}

// cpuPerRequest is the server's CPU time per successful request, in µs.
func (r *pinnedRound) cpuPerRequest() float64 {
	if r.result.requests == 0 {
		return 0
	}
	return float64(r.serverCPU) / float64(time.Microsecond) / float64(r.result.requests)
}

// serverBusy is the share of the server's core it used: near 1 means the
// server, not the generator, set the pace.
func (r *pinnedRound) serverBusy() float64 { return share(r.serverCPU, r.result.elapsed) }

// generatorBusy is the share of its core the generator used.
func (r *pinnedRound) generatorBusy() float64 { return share(r.clientCPU, r.result.elapsed) }

func share(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(cpu) / float64(wall)
}

// measureRound loads p for d with one worker per request in reqs, reading
// both processes' CPU time around it.
func measureRound(ctx context.Context, p *serverProcess, reqs [][]byte, d time.Duration) (*pinnedRound, error) {
	server0, err := processCPU(p.pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.kind.name, err)
	}
	client0, err := processCPU(os.Getpid())
	if err != nil {
		return nil, err
	}
	res, err := loadRaw(ctx, p.addr, reqs, d)
	if err != nil {
		return nil, err
	}
	server1, err := processCPU(p.pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.kind.name, err)
	}
	client1, err := processCPU(os.Getpid())
	if err != nil {
		return nil, err
	}
	return &pinnedRound{result: res, serverCPU: server1 - server0, clientCPU: client1 - client0}, nil
}

// workerRequests builds each of n workers' request to kind's server at
// addr: client i sends kind's Authorization for client i.
func workerRequests(kind serverKind, addr string, n int) ([][]byte, error) {
	reqs := make([][]byte, n)
	for i := range reqs {
		auth, err := kind.authorization(i)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind.name, err)
		}
		reqs[i] = rawRequest(addr, auth)
	}
	return reqs, nil
}

// checkCPUs fails unless server and client are two different CPUs this
// process may use.
func checkCPUs(server, client int) error {
	allowed, err := allowedCPUs()
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range []struct {
		flag string
		cpu  int
	}{{"-server-cpu", server}, {"-client-cpu", client}} {
		if !slices.Contains(allowed, c.cpu) {
			errs = append(errs, fmt.Errorf("%s %d: this process may only use CPUs %v", c.flag, c.cpu, allowed))
		}
	}
	if server == client {
		errs = append(errs, fmt.Errorf("-server-cpu and -client-cpu are both %d; the pinned mode needs two CPUs", server))
	}
	return errors.Join(errs...)
}
