package service

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestActorsClusterNATSRestartUnderLoad: the NATS server of a two-node
// actor cluster is killed while node 1 serves a route to an actor on
// node 2, stays down past the lease TTL, and comes back on the same port
// with its JetStream files. Meanwhile every answer is 200 or a typed
// error (503 problem+json from actors.ErrUnavailable, or 504 problem+json
// for a request in flight at the kill), readiness fails on both nodes,
// and nothing panics; afterwards the same processes serve again, with no
// restart, and readiness passes.
func TestActorsClusterNATSRestartUnderLoad(t *testing.T) {
	opts := natsOptions(t, nil)
	opts.Port = natstest.FreePorts(t, 1)[0]
	srv := natstest.RunWith(t, opts)
	env := map[string]string{
		"ACTORS__CLUSTER__ENABLED":    "true",
		"ACTORS__SHARDING__LEASE_TTL": "1s",
		"NATS__URL":                   srv.ClientURL(),
		// A request in flight when NATS dies waits for its deadline.
		"HTTP__REQUEST_TIMEOUT": "2s",
	}
	nodes := startAll(t, []map[string]string{env, env}, [][]Option{
		{WithAPI(clusterAPI())},
		{WithAPI(clusterAPI()), WithActor("where", nodeActor)},
	})
	l := &routeLoad{url: nodes[0].base() + "/api/v1/where", done: make(chan struct{})}
	l.wg.Go(l.run)
	defer l.stop()
	l.waitFor(t, http.StatusOK, 5)

	srv.Shutdown()
	srv.WaitForShutdown()
	for _, n := range nodes {
		waitReadiness(t, n, "nats", StatusFail)
	}
	l.waitFor(t, http.StatusServiceUnavailable, 5)
	time.Sleep(time.Second) // the lease TTL: the names' leases lapse meanwhile

	again := natsOptions(t, nil)
	again.Port, again.StoreDir = opts.Port, opts.StoreDir
	natstest.RunWith(t, again)
	for _, n := range nodes {
		waitReadiness(t, n, "nats", StatusPass)
	}
	l.waitFor(t, http.StatusOK, l.count(http.StatusOK)+20)
	l.stop()
	if len(l.bad) > 0 {
		t.Fatalf("%d answers were neither 200 nor a typed 503/504 problem+json, first: %s", len(l.bad), l.bad[0])
	}
	t.Logf("answers: %v", l.seen)
	for i, n := range nodes {
		if logs := n.logs.String(); strings.Contains(logs, "panic") {
			t.Errorf("node %d logged a panic:\n%s", i+1, logs)
		}
	}
}

// routeLoad GETs url in a loop and tallies the answers by status; any
// answer but 200 or a 503/504 problem+json is a failure.
type routeLoad struct {
	url  string
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu   sync.Mutex
	seen map[int]int
	bad  []string
}

func (l *routeLoad) run() {
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-l.done:
			return
		case <-time.After(2 * time.Millisecond):
		}
		status, bad := l.one(client)
		l.mu.Lock()
		if l.seen == nil {
			l.seen = map[int]int{}
		}
		l.seen[status]++
		if bad != "" {
			l.bad = append(l.bad, bad)
		}
		l.mu.Unlock()
	}
}

func (l *routeLoad) one(client *http.Client) (int, string) {
	resp, err := client.Get(l.url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.StatusCode, ""
	case (resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout) &&
		resp.Header.Get("Content-Type") == "application/problem+json":
		return resp.StatusCode, ""
	}
	return resp.StatusCode, fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
}

func (l *routeLoad) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[status]
}

// waitFor waits until n answers had status.
func (l *routeLoad) waitFor(t *testing.T, status, n int) {
	t.Helper()
	deadline := time.Now().Add(natsWait)
	for l.count(status) < n {
		if time.Now().After(deadline) {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("%d answers %d within %s, want %d; answers %v, failures %v", l.seen[status], status, natsWait, n, l.seen, l.bad)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *routeLoad) stop() { l.once.Do(func() { close(l.done); l.wg.Wait() }) }
