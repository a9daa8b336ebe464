// Package redistest starts real redis-server processes for tests, each on a
// free loopback port with persistence off, in the style of nats-server's
// test.RunServer: one call, cleaned up by the test.
//
// When redis-server is not installed the test is skipped with a loud
// message, unless the CI environment variable is set, in which case it
// fails: CI must never pass by skipping the Redis tests (DESIGN §7).
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Binary is the program Start runs, looked up on PATH.
const Binary = "redis-server"

const (
	startAttempts = 5                // free-port races lost before giving up
	readyTimeout  = 10 * time.Second // for redis-server to answer PING
)

// Server is a running redis-server owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	frozen bool
}

// Start runs redis-server on 127.0.0.1 with a free port, no persistence and
// a temporary directory, waits until it answers PING, and stops it when the
// test ends. Without redis-server on PATH it skips the test (fails it when
// CI is set).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		missing(t)
		return nil
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	var lastErr error
	for range startAttempts {
		if s.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: starting %s: %v", bin, lastErr)
	return nil
}

// missing skips or fails t because redis-server is not installed.
func missing(t testing.TB) {
	t.Helper()
	msg := "redistest: " + Binary + " not found on PATH; install Redis to run this test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
		return
	}
	t.Skip("!!! SKIPPED: " + msg + " !!!")
}

// freePort asks the kernel for a free port. Another process may take it
// before redis-server binds it; Start then tries again with a new one.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server on s.port and waits for PING, or for it to exit
// (a lost port race).
func (s *Server) start() error {
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--protected-mode", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // exit status is uninteresting: Kill causes it
		close(done)
	}()
	client := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.mu.Lock()
			s.cmd, s.done = cmd, done
			s.mu.Unlock()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server exited before answering PING on port %d", s.port)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server did not answer PING within %s: %w", readyTimeout, err)
		}
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns a redis:// URL for database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a client connected to the server, closed when t ends. It
// dials once per attempt rather than go-redis's default five, so tests of
// a killed server fail fast.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Freeze stops the server with SIGSTOP: its port and connections stay
// open and the kernel still accepts new ones, but nothing is answered —
// what a client sees of a paused VM, a long fork or a stop-the-world
// pause, and unlike Kill no error comes back, only silence. Thaw resumes
// it; Kill and the test's cleanup thaw it first.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP, true) }

// Thaw resumes a frozen server with SIGCONT; thawing a running server does
// nothing.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT, false) }

// signal sends sig to the running server and records whether it is now
// frozen.
func (s *Server) signal(sig syscall.Signal, freeze bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.frozen == freeze {
		return
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: sending %v to redis-server: %v", sig, err)
	}
	s.frozen = freeze
}

// Kill stops the server at once, as a crash would, and waits for it to
// exit. Killing a stopped server does nothing; a frozen one is thawed
// first.
func (s *Server) Kill() {
	s.Thaw()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("redistest: killing redis-server: %v", err)
	}
	<-done
}

// Restart starts the server again on the same port, empty (nothing was
// persisted), killing it first if it is running.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for range startAttempts {
		if err = s.start(); err == nil {
			return
		}
	}
	s.t.Fatalf("redistest: restarting redis-server on port %d: %v", s.port, err)
}
