package realtime

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestManyConnectionsDropped opens 10,000 connections from another process
// — this machine allows 20,000 open files per process, and each connection
// costs one on each side — and kills that process, so every connection
// ends abruptly: half with a reset, half with a FIN and no close frame. It
// does so twice. Afterwards no goroutine of any connection remains, the
// room they had joined has no member left, and the second round leaves the
// heap about where the first left it. (The first leaves the runtime's
// 10,000 goroutine descriptors, which it keeps for reuse, about 4 MB.)
func TestManyConnectionsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 connections")
	}
	const n = 10_000
	cfg := fastConfig()
	// The helper's sockets answer no ping: the connections must outlive
	// the test without a heartbeat closing them.
	cfg.PingInterval, cfg.IdleTimeout = time.Hour, 2*time.Hour
	cfg.MaxConnections = n
	cfg.MaxConnectionsPerPrincipal = n
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {Rooms: []string{"all"}}})
	ignore := goleak.IgnoreCurrent()
	before := heapAlloc()
	th.dropRound(t, n, ignore)
	first := heapAlloc()
	th.dropRound(t, n, ignore)
	second := heapAlloc()
	t.Logf("heap: %+d KB after the first round, %+d KB more after the second", (first-before)>>10, (second-first)>>10)
	// A leaked connection would cost its 6 KB of heap, 60 MB per round; the
	// bound leaves room for the runtime's goroutine descriptors, of which a
	// round with a higher peak of concurrent goroutines keeps a few
	// thousand more (about 400 bytes each).
	if second-first > 4<<20 {
		t.Errorf("the second round of 10,000 connections left %d KB more on the heap", (second-first)>>10)
	}
	if first-before > 8<<20 {
		t.Errorf("the first round left %d KB on the heap", (first-before)>>10)
	}
}

// dropRound opens n connections from a helper process, checks they are
// open, kills the process and checks that everything they held is gone.
func (th *testHub) dropRound(t *testing.T, n int, ignore goleak.Option) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperClients$")
	cmd.Env = append(os.Environ(), "REALTIME_HELPER_ADDR="+th.srv.Listener.Addr().String(), "REALTIME_HELPER_N="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("client process: %q %v", line, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for th.Connections() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", th.Connections(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if testing.Verbose() {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		t.Logf("%d connections open: heap %d MB, stacks %d MB", n, m.HeapAlloc>>20, m.StackInuse>>20)
	}
	stdin.Close() // the helper exits without closing anything
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client process: %v", err)
	}
	// Ten thousand teardowns (actor stop, room leave, metrics) under the
	// race detector on a loaded 2-core machine have taken more than 10 s.
	left := func() int {
		th.mu.Lock()
		defer th.mu.Unlock()
		return len(th.conns) + th.reserved
	}
	for deadline := time.Now().Add(time.Minute); left() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections not ended a minute after their client process died", left())
		}
	}
	if got := th.stats.active[transportWebSocket].Load(); got != 0 {
		t.Errorf("active connections gauge = %d", got)
	}
	// Each connection's actor leaves its rooms as it stops.
	spy := newRecorder()
	spyRef, _ := th.sys.SpawnActor("", spy)
	defer th.sys.Stop(spyRef)
	members := -1
	for range 100 {
		_ = th.sendRoom("all", &membersRequest{conn: spyRef})
		if members = spy.next(t).(*membersReply).total; members == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if members != 0 {
		t.Errorf("room still has %d members", members)
	}
	// Writers, readers and heartbeats are gone; an actor's drain goroutine
	// may take a moment to notice its mailbox is empty.
	eventuallyWithin(t, time.Minute, "no goroutine left", func() bool { return goleak.Find(ignore) == nil })
}

// TestHelperClients is the client process of TestManyConnectionsDropped.
func TestHelperClients(t *testing.T) {
	addr := os.Getenv("REALTIME_HELPER_ADDR")
	if addr == "" {
		t.Skip("run by TestManyConnectionsDropped")
	}
	n, _ := strconv.Atoi(os.Getenv("REALTIME_HELPER_N"))
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, err := handshake(addr, "/ws")
			if err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				_ = nc.(*net.TCPConn).SetLinger(0) // reset on exit
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0) // the kernel closes the sockets; no close frame is sent
}

// handshake opens a WebSocket at path on addr and returns its socket.
func handshake(addr, path string) (net.Conn, error) {
	var nc net.Conn
	var err error
	for range 5 { // a burst can overflow the listen backlog
		if nc, err = net.DialTimeout("tcp", addr, 10*time.Second); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, nil
}
