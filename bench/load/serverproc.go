package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/troupehq/troupe/bench/load/internal/loadserver"
)

// serverProcess is one server kind running alone in a process of its own
// binary.
type serverProcess struct {
	kind  serverKind
	cmd   *exec.Cmd
	stdin io.WriteCloser // closing it stops the server
	done  chan error     // cmd.Wait's result
	addr  string
	pid   int
}

// startServerProcess runs kind's server binary bin in a process confined
// to cpu with GOMAXPROCS=1, waits until it listens, and checks that every
// one of its threads is on cpu.
func startServerProcess(kind serverKind, bin string, cpu int) (*serverProcess, error) {
	cmd := exec.Command(bin, append(slices.Clone(kind.args), "-"+loadserver.ExitWithStdinFlag)...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := startPinned(cmd, cpu); err != nil {
		return nil, fmt.Errorf("%s: starting its process: %w", kind.name, err)
	}
	p := &serverProcess{kind: kind, cmd: cmd, stdin: stdin, done: make(chan error, 1), pid: cmd.Process.Pid}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	go func() { p.done <- cmd.Wait() }()

	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), loadserver.ReadyPrefix)
		if !ok {
			return nil, errors.Join(fmt.Errorf("%s: its process said %q, want %q and an address", kind.name, line, loadserver.ReadyPrefix), p.stop())
		}
		p.addr = addr
	case <-time.After(loadserver.StartTimeout):
		return nil, errors.Join(fmt.Errorf("%s: not listening after %s", kind.name, loadserver.StartTimeout), p.stop())
	}
	if err := p.checkPinned(cpu); err != nil {
		return nil, errors.Join(err, p.stop())
	}
	return p, nil
}

// checkPinned fails unless every thread of the process may run on cpu only.
func (p *serverProcess) checkPinned(cpu int) error {
	lists, err := threadCPUs(p.pid)
	if err != nil {
		return fmt.Errorf("%s: reading its threads' affinity: %w", p.kind.name, err)
	}
	if len(lists) != 1 || lists[0] != strconv.Itoa(cpu) {
		return fmt.Errorf("%s: its threads may run on CPUs %q, want only %d", p.kind.name, lists, cpu)
	}
	return nil
}

// stop closes the child's stdin, which makes it shut its server down and
// exit, and waits for that; a child that does not exit within loadserver.StopTimeout
// is killed.
func (p *serverProcess) stop() error {
	_ = p.stdin.Close()
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("%s: its process: %w", p.kind.name, err)
		}
		return nil
	case <-time.After(loadserver.StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s: its process did not exit within %s of being told to; killed", p.kind.name, loadserver.StopTimeout)
	}
}

// buildServers builds every distinct server binary of kinds into dir with
// the go command, so that each server is a program of its own that links
// only what it uses (bare Echo's memory is then Echo's, not Troupe's). It
// returns the binaries' paths by package.
func buildServers(dir string, kinds []serverKind) (map[string]string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the pinned mode builds its servers with the go command: %w", err)
	}
	src, err := sourceDir()
	if err != nil {
		return nil, err
	}
	bins := map[string]string{}
	for _, k := range kinds {
		if bins[k.pkg] != "" {
			continue
		}
		bin := filepath.Join(dir, filepath.Base(k.pkg))
		build := exec.Command(goTool, "build", "-o", bin, k.pkg)
		build.Dir = src
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", k.pkg, err, out)
		}
		bins[k.pkg] = bin
	}
	return bins, nil
}

// sourceDir returns bench/load's directory in the checkout this program was
// built from, where the server packages are.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot tell where bench/load's source is")
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "cmd")); err != nil {
		return "", fmt.Errorf("the pinned mode builds its servers from bench/load's source, expected at %s: %w", dir, err)
	}
	return dir, nil
}
