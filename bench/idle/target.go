package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// target is one program bench/idle measures.
type target struct {
	// name labels the target in the report and in -targets.
	name string
	// pkg is the Go package that builds its binary, relative to the
	// module root.
	pkg string
	// args and env are its command line and the environment added to
	// the tool's.
	args []string
	env  func(tmp string) []string
	// paths are the routes the load burst asks for, in turn; each must
	// answer 200.
	paths []string
}

// ready is how a target's process says it listens: bench/load's servers
// print "listening <addr>"; a service.Main program logs "service started"
// with its address.
func readyAddr(line string) (string, bool) {
	if addr, ok := strings.CutPrefix(line, "listening "); ok {
		return strings.TrimSpace(addr), true
	}
	var rec struct {
		Msg     string `json:"msg"`
		Address string `json:"address"`
	}
	if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "service started" && rec.Address != "" {
		return rec.Address, true
	}
	return "", false
}

// targets are the programs of issue 19 item 4: bare Echo as the floor,
// the quickstart's service with the default config (bench/load's "Troupe
// defaults" server), and the showcase with its own defaults except that
// the per-IP rate limit is lifted far above the burst, so the burst is
// served rather than refused (the limit is still decided on every request).
var targets = []target{
	{
		name:  "bare-echo",
		pkg:   "./bench/load/cmd/bare-echo",
		args:  []string{"-exit-with-stdin"},
		env:   func(string) []string { return nil },
		paths: []string{"/api/v1/hello"},
	},
	{
		name:  "troupe-defaults",
		pkg:   "./bench/load/cmd/troupe",
		args:  []string{"-exit-with-stdin"},
		env:   func(string) []string { return nil },
		paths: []string{"/api/v1/hello"},
	},
	{
		name: "showcase",
		pkg:  "./examples/showcase",
		env: func(tmp string) []string {
			return []string{
				"SHOWCASE_HTTP__ADDRESS=127.0.0.1:0",
				"SHOWCASE_ADMIN__ADDRESS=127.0.0.1:0",
				"SHOWCASE_HTTP__DRAIN_DELAY=0s",
				"SHOWCASE_RATE_LIMIT__PER_IP_RPM=60000000",
				// The compiled-module cache outlives the process, as it
				// does in production, and the first (unmeasured) start
				// fills it; see warm.
				"XDG_CACHE_HOME=" + filepath.Join(tmp, "cache"),
				"XDG_CONFIG_HOME=" + filepath.Join(tmp, "config"),
				"XDG_CONFIG_DIRS=" + filepath.Join(tmp, "config"),
			}
		},
		paths: []string{"/api/v2/notes/1", "/api/v2/notes/1/summary", "/api/v2/notes", "/api/v1/notes", "/api/v2/stats"},
	},
}

// process is a started target.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
	addr  string
	pid   int
}

// start runs bin (target t's binary) in dir, read afresh from disk (see
// evict), waits until it listens and returns it. Its output is scanned for the ready line and discarded.
func start(t target, bin, dir, tmp string) (*process, error) {
	if err := evict(bin); err != nil {
		return nil, fmt.Errorf("%s: dropping %s from the page cache: %w", t.name, bin, err)
	}
	cmd := exec.Command(bin, t.args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), t.env(tmp)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	p := &process{cmd: cmd, stdin: stdin, done: make(chan error, 1), pid: cmd.Process.Pid}
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			if addr, ok := readyAddr(sc.Text()); ok && !found {
				found = true
				addrs <- addr
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case p.addr = <-addrs:
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("%s: exited before listening: %v", t.name, err)
	case <-time.After(startTimeout):
		return nil, errors.Join(fmt.Errorf("%s: not listening after %s", t.name, startTimeout), p.stop())
	}
}

// startTimeout covers a first start that builds and compiles a component.
const startTimeout = 3 * time.Minute

// stop ends the process: bench/load's servers stop when stdin closes; a
// service.Main program on SIGTERM.
func (p *process) stop() error {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("pid %d: not stopped after 20s, killed", p.pid)
	}
}
