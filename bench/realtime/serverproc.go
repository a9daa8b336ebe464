package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// serverProc is a server running in a child process.
type serverProc struct {
	hello
	kind  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startServer re-executes this binary as the server of kind and waits for
// its hello line. The child stops when its stdin closes, so it does not
// outlive the harness.
func startServer(kind string) (*serverProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serverEnv+"="+kind)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{kind: kind, cmd: cmd, stdin: stdin}
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&p.hello); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server %s: no hello: %w", kind, err)
	}
	return p, nil
}

// stop closes the server's stdin and waits for it to exit.
func (p *serverProc) stop() error {
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("server %s: not stopped after 30s", p.kind)
	}
}

// stats asks the server for its stats, after a GC when gc is set.
func (p *serverProc) stats(gc bool) (stats, error) {
	url := "http://" + p.Control + "/stats"
	if gc {
		url += "?gc=1"
	}
	var s stats
	resp, err := http.Get(url)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// publish has the server publish count messages at rate per second to the
// broadcast room; it returns when the last one is published.
func (p *serverProc) publish(count, rate int) error {
	resp, err := http.Post(fmt.Sprintf("http://%s/publish?count=%d&rate=%d", p.Control, count, rate), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("publish: %s: %s", resp.Status, b)
	}
	return nil
}

// waitConns waits until the server counts n open connections.
func (p *serverProc) waitConns(n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		s, err := p.stats(false)
		if err == nil && s.Conns == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server %s: %d connections open, want %d (%v)", p.kind, s.Conns, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
