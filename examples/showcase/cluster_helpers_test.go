package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// clusterStartTimeout bounds a node's start: it waits for the others to
// place the replicated buckets, which took 31 s for three nodes on a
// loaded 2-core machine (actors.cluster.join_timeout's comment).
const clusterStartTimeout = 2 * time.Minute

// showcaseNode is one OS process of the showcase in a cluster.
type showcaseNode struct {
	n     int
	cmd   *exec.Cmd
	api   string // http://127.0.0.1:port
	admin string
	nats  string // nats://127.0.0.1:port, its embedded server's client port
	logs  *lines
	done  chan struct{} // closed when the process has exited
}

// lines keeps a process's output, line by line, and reports when the
// service has logged its start.
type lines struct {
	mu      sync.Mutex
	all     []string
	started chan map[string]any
}

func (l *lines) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		l.all = append(l.all, line)
		l.mu.Unlock()
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "service started" {
			l.started <- rec
		}
	}
}

// contains reports whether any line holds s.
func (l *lines) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.all {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// grep returns the lines that hold s.
func (l *lines) grep(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.all {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// clientListen returns the embedded NATS server's client address from
// its start-up line, "" without one.
func (l *lines) clientListen() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.all {
		var rec struct {
			Msg    string `json:"msg"`
			Listen string `json:"client_listen"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "NATS: embedded server started" {
			return rec.Listen
		}
	}
	return ""
}

// since returns the JSON lines logged at or after t, but the access log's.
func (l *lines) since(t time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.all {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && !rec.Time.Before(t) && rec.Msg != "request" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// buildShowcase builds this package's binary once for the test, outside
// the race detector: the processes are the system under test, and three
// race-instrumented showcases would crowd a 2-core machine.
func buildShowcase(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "showcase")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startShowcaseCluster starts n showcase processes whose embedded NATS
// servers route to each other on loopback, with the actor cluster on, as
// cluster.sh does, plus env for every node, and waits until each has
// started. HTTP and admin listeners bind port 0 and are read from each
// node's start-up line; the route ports, which every node must know
// beforehand, are picked free a moment before.
func startShowcaseCluster(t *testing.T, bin string, n int, env map[string]string) []*showcaseNode {
	t.Helper()
	ports := natstest.FreePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = "nats://127.0.0.1:" + strconv.Itoa(p)
	}
	nodes := make([]*showcaseNode, n)
	for i := range nodes {
		nodeEnv := map[string]string{
			"SHOWCASE_HTTP__ADDRESS":         "127.0.0.1:0",
			"SHOWCASE_ADMIN__ADDRESS":        "127.0.0.1:0",
			"SHOWCASE_NATS__CLUSTER__LISTEN": "127.0.0.1:" + strconv.Itoa(ports[i]),
			"SHOWCASE_NATS__CLUSTER__ROUTES": strings.Join(routes, ","),
			// A client port, for the tests to ask JetStream who leads
			// what: any free one, read from the start-up log.
			"SHOWCASE_NATS__LISTEN":             "127.0.0.1:0",
			"SHOWCASE_ACTORS__CLUSTER__ENABLED": "true",
			"XDG_STATE_HOME":                    t.TempDir(),
			// The summarizer compiled once by TestMain.
			"SHOWCASE_ACTORS__COMPONENTS__CACHE_DIR": componentCache,
		}
		for k, v := range env {
			nodeEnv[k] = v
		}
		nodes[i] = startShowcaseNode(t, bin, i+1, nodeEnv)
	}
	for _, node := range nodes {
		node.waitStarted(t)
	}
	return nodes
}

// startShowcaseNode starts one process with env over a clean environment
// (no SHOWCASE_* or XDG_STATE_HOME of the test's own), stopped with
// SIGTERM when the test ends.
func startShowcaseNode(t *testing.T, bin string, n int, env map[string]string) *showcaseNode {
	t.Helper()
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOWCASE_") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	node := &showcaseNode{n: n, cmd: cmd, logs: &lines{started: make(chan map[string]any, 1)}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		node.logs.read(out)
		_ = cmd.Wait()
		close(node.done)
	}()
	t.Cleanup(func() { node.stop(t) })
	return node
}

// waitStarted waits for the node's start-up line and reads its addresses.
func (s *showcaseNode) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case rec := <-s.logs.started:
		s.api = "http://" + fmt.Sprint(rec["address"])
		s.admin = "http://" + fmt.Sprint(rec["admin_address"])
		s.nats = "nats://" + s.logs.clientListen()
	case <-s.done:
		t.Fatalf("node %d exited before it started:\n%s", s.n, s.logs)
	case <-time.After(clusterStartTimeout):
		t.Fatalf("node %d did not start within %s:\n%s", s.n, clusterStartTimeout, s.logs)
	}
}

// kill sends SIGKILL: no shutdown, no lease released.
func (s *showcaseNode) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

// stop sends SIGTERM and waits for a graceful exit, killing the process
// if it takes longer than a shutdown should.
func (s *showcaseNode) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Errorf("node %d did not stop within 30s of SIGTERM", s.n)
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// runsActor reports whether the node runs a local actor named name,
// from its inspector's list of the node's actors.
func (s *showcaseNode) runsActor(t *testing.T, name string) bool {
	t.Helper()
	resp, err := http.Get(s.admin + "/inspect/actors?limit=500")
	if err != nil {
		t.Fatalf("node %d: %v", s.n, err)
	}
	defer resp.Body.Close()
	var list struct {
		Actors []struct {
			Name string `json:"name"`
		} `json:"actors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("node %d: /inspect/actors: %v", s.n, err)
	}
	for _, a := range list.Actors {
		if a.Name == name {
			return true
		}
	}
	return false
}
