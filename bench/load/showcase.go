package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
	"github.com/troupehq/troupe/bench/internal/loadavg"
)

// The showcase mode measures two routes of one process, the example
// service examples/showcase, pinned like the pinned mode's servers: the
// native GET /api/v2/notes/:id, served by the notes actor, and GET
// /api/v2/notes/:id/summary, served by the summarizer WASM component, which
// asks the same notes actor for the note (issue 19 item 3). The routes
// take turns, so their server CPU per request compares within the run.

// showcaseRoute is one route the showcase mode loads.
type showcaseRoute struct {
	name string
	path string
	// want is a fragment every answer's body must hold.
	want string
}

var showcaseRoutes = []showcaseRoute{
	{name: "notes/:id (native)", path: "/api/v2/notes/3", want: `"body":"This is seeded note number 3."`},
	{name: "notes/:id/summary (WASM)", path: "/api/v2/notes/3/summary", want: `"summary":"This is seeded note number 3."`},
}

// showcaseStartTimeout bounds the showcase's start, which includes
// building the summarizer from source into an empty cache.
const showcaseStartTimeout = 3 * time.Minute

// runShowcase builds the showcase, runs it pinned to s.ServerCPU, loads
// its routes in turns from s.ClientCPU and writes the report to out.
func runShowcase(ctx context.Context, s settings, out io.Writer) (rep *showcaseReport, err error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if err := checkCPUs(s.ServerCPU, s.ClientCPU); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "troupe-load-showcase-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := startShowcase(ctx, dir, s.ServerCPU)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()
	rep = &showcaseReport{pinnedReport: pinnedReport{settings: s, loadBefore: loadavg.Read()}}
	if rep.startRSS, err = processRSS(p.pid); err != nil {
		return nil, err
	}
	restore, err := pinProcess(s.ClientCPU)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, restore()) }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rep.env = currentEnvironment()
	if err := showcaseRounds(ctx, s, p, rep, out); err != nil {
		return nil, err
	}
	if rep.endRSS, err = processRSS(p.pid); err != nil {
		return nil, err
	}
	rep.loadAfter = loadavg.Read()
	return rep, rep.write(out)
}

// showcaseRounds warms each route up, then runs s.Rounds rounds in which
// the routes take turns.
func showcaseRounds(ctx context.Context, s settings, p *showcaseProcess, rep *showcaseReport, out io.Writer) error {
	reqs := make([][][]byte, len(showcaseRoutes))
	for i, r := range showcaseRoutes {
		rep.targets = append(rep.targets, &pinnedTarget{name: r.name, total: roundResult{hist: histogram.New()}})
		reqs[i] = make([][]byte, s.Concurrency)
		for w := range reqs[i] {
			reqs[i][w] = []byte("GET " + r.path + " HTTP/1.1\r\nHost: " + p.addr + "\r\nUser-Agent: troupe-load\r\n\r\n")
		}
		if s.Warmup > 0 {
			res, err := loadRoute(ctx, p.addr, reqs[i], r.want, s.Warmup)
			if err != nil {
				return err
			}
			rep.targets[i].addWarmup(res)
		}
	}
	for round := 1; round <= s.Rounds; round++ {
		for i, r := range showcaseRoutes {
			runtime.GC()
			pr, err := measureRoute(ctx, p.pid, p.addr, reqs[i], r.want, s.Duration)
			if err != nil {
				return err
			}
			rep.targets[i].addRound(pr)
			_, err = fmt.Fprintf(out, "round %d/%d  %-26s %8.0f req/s  p50 %s  p99 %s  server %6.1f µs/req, core %3.0f%%  generator core %3.0f%%  errors %d\n",
				round, s.Rounds, r.name, pr.result.rps(), millis(pr.result.hist.Quantile(0.50)), millis(pr.result.hist.Quantile(0.99)),
				pr.cpuPerRequest(), 100*pr.serverBusy(), 100*pr.generatorBusy(), pr.result.errors)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// measureRoute loads one route for d, reading both processes' CPU time
// around it.
func measureRoute(ctx context.Context, pid int, addr string, reqs [][]byte, want string, d time.Duration) (*pinnedRound, error) {
	server0, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	client0, err := processCPU(os.Getpid())
	if err != nil {
		return nil, err
	}
	res, err := loadRoute(ctx, addr, reqs, want, d)
	if err != nil {
		return nil, err
	}
	server1, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	client1, err := processCPU(os.Getpid())
	if err != nil {
		return nil, err
	}
	return &pinnedRound{result: res, serverCPU: server1 - server0, clientCPU: client1 - client0}, nil
}

// showcaseProcess is the showcase running pinned.
type showcaseProcess struct {
	cmd  *exec.Cmd
	done chan error
	addr string
	pid  int
}

// startShowcase builds the showcase into dir and starts it pinned to cpu
// with GOMAXPROCS=1, from the repository root so that it finds its
// components and policies. Its component cache is empty, so the summarizer
// is built from the checkout's source by the showcase itself
// (actors.components.build_missing), SDK included. Rate limits are off:
// the showcase's 60 requests a minute per client would refuse the load.
func startShowcase(ctx context.Context, dir string, cpu int) (*showcaseProcess, error) {
	src, err := sourceDir()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(src, "..", "..")
	bin := filepath.Join(dir, "showcase")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/showcase")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./examples/showcase: %w\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(dir, "showcase.log"))
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	cmd := exec.Command(bin)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = io.Discard, logs // stdout: the access log, formatted and dropped
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "SHOWCASE_HTTP__ADDRESS="+addr, "SHOWCASE_ADMIN__ADDRESS="+admin,
		"SHOWCASE_RATE_LIMIT__ENABLED=false", "SHOWCASE_ACTORS__COMPONENTS__CACHE_DIR="+filepath.Join(dir, "cache"))
	if err := startPinned(cmd, cpu); err != nil {
		return nil, fmt.Errorf("showcase: starting its process: %w", err)
	}
	p := &showcaseProcess{cmd: cmd, done: make(chan error, 1), addr: addr, pid: cmd.Process.Pid}
	go func() { p.done <- cmd.Wait() }()
	if err := p.awaitReady(ctx); err != nil {
		log, _ := os.ReadFile(logs.Name())
		return nil, errors.Join(fmt.Errorf("%w; its log:\n%s", err, tail(log, 2000)), p.stop())
	}
	if lists, err := threadCPUs(p.pid); err != nil || len(lists) != 1 || lists[0] != strconv.Itoa(cpu) {
		return nil, errors.Join(fmt.Errorf("showcase: its threads may run on CPUs %q (%v), want only %d", lists, err, cpu), p.stop())
	}
	return p, nil
}

// awaitReady polls the summary route until it answers as loaded, which
// also means the component is built and loaded.
func (p *showcaseProcess) awaitReady(ctx context.Context) error {
	route := showcaseRoutes[len(showcaseRoutes)-1]
	req := []byte("GET " + route.path + " HTTP/1.1\r\nHost: " + p.addr + "\r\n\r\n")
	deadline := time.Now().Add(showcaseStartTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("showcase exited before serving: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		res, err := loadRoute(ctx, p.addr, [][]byte{req}, route.want, time.Millisecond)
		if err == nil && res.requests > 0 {
			return nil
		}
		last = err
		if res != nil && len(res.samples) > 0 {
			last = errors.New(res.samples[0])
		}
	}
	return fmt.Errorf("showcase: %s not answering after %s: %v", route.path, showcaseStartTimeout, last)
}

// stop interrupts the showcase, which drains and exits, or kills it when
// it takes too long.
func (p *showcaseProcess) stop() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("showcase: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("showcase: did not exit within 30s of SIGINT; killed")
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
