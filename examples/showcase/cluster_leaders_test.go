package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/troupehq/troupe/actors"
)

// TestShowcaseClusterLeadersKilled is the worst SIGKILL for a failover,
// at the default lease TTL: the killed node runs the stats singleton and
// its embedded server leads every bucket's stream (the names, entities,
// members and state), so until the survivors elect new
// leaders — nats-server's Raft election timeout, 4 to 9 s — no lease and
// no note can be written anywhere. Issue 15's target is failover within
// the lease TTL + 1 s; TestShowcaseCluster measures the kill with a short
// TTL and whatever leaders the cluster chose.
//
// It runs alone in .ci/run (TROUPE_FAILOVER_TESTS=1), after the parallel
// run: a timing target over three processes does not share two cores with
// every other package's tests.
func TestShowcaseClusterLeadersKilled(t *testing.T) {
	if os.Getenv("TROUPE_FAILOVER_TESTS") == "" {
		t.Skip("set TROUPE_FAILOVER_TESTS=1: runs three processes against a timing target (.ci/run runs it alone)")
	}
	nodes := startShowcaseCluster(t, buildShowcase(t), 3, map[string]string{
		"SHOWCASE_RATE_LIMIT__ENABLED":   "false",
		"SHOWCASE_HTTP__REQUEST_TIMEOUT": "5s",
		"SHOWCASE_NATS__CONNECT_TIMEOUT": "1m",
	})
	for _, n := range nodes {
		eventuallyStatus(t, n.admin+"/readyz", http.StatusOK)
		eventuallyStatus(t, n.api+"/api/v2/notes", http.StatusOK)
	}
	victim, survivors := statsNode(t, nodes)
	notes := createNotes(t, nodes)
	leadOnto(t, victim)

	l := startLoad(survivors, "/api/v2/stats", "/api/v2/notes", "/api/v2/notes/1", "/api/v2/notes/1/summary")
	defer l.stop()
	l.waitOK(t, 10)
	victim.kill(t)
	killed := time.Now()
	took := failoverTimes(t, survivors[0], notes)
	ttl := actors.DefaultLeaseTTL
	t.Logf("node %d SIGKILLed with every stream leader (lease TTL %s): stats answered through a survivor after %s, each of the 12 notes after at most %s; streams' new leaders elected after %s",
		victim.n, ttl, took["stats"].Round(time.Millisecond), took["notes"].Round(time.Millisecond), elections(survivors, killed))
	missed := false
	for what, d := range took {
		missed = missed || d > ttl+time.Second
		// Target TTL + 1 s; 2 s more for a loaded CI machine.
		if d > ttl+3*time.Second {
			t.Errorf("%s took %s to fail over, over the lease TTL %s + 1 s (and 2 s of slack)", what, d.Round(time.Millisecond), ttl)
		}
	}
	if missed {
		for _, n := range survivors {
			t.Logf("over the target; node %d's log since the kill:\n%s", n.n, n.logs.since(killed))
		}
	}
	l.stop()
	if bad := l.failures(); len(bad) > 0 {
		t.Fatalf("%d answers during the move were neither 200 nor 503/504 problem+json, first: %s", len(bad), bad[0])
	}
	t.Logf("during the move: %d answers 200, %d answers 503/504 problem+json", l.okCount(), l.unavailableCount())
}

// failoverTimes polls, from now on (just after a kill), the stats route and every note
// through node at once, and returns when each first answered: "stats",
// and "notes", the last of the notes.
func failoverTimes(t *testing.T, node *showcaseNode, notes map[string]string) map[string]time.Duration {
	t.Helper()
	start := time.Now()
	var mu sync.Mutex
	took := map[string]time.Duration{}
	var wg sync.WaitGroup
	poll := func(what, path, want string) {
		wg.Go(func() {
			eventuallyEvery(t, node.api+path, 500*time.Millisecond, func(code int, body string) bool {
				return code == http.StatusOK && strings.Contains(body, want)
			})
			mu.Lock()
			took[what] = max(took[what], time.Since(start))
			mu.Unlock()
		})
	}
	poll("stats", "/api/v2/stats", "created")
	for loc, title := range notes {
		poll("notes", loc, title)
	}
	wg.Wait()
	return took
}

// leadOnto moves the leadership of every stream to node's embedded
// server, through its client port, and waits until it leads them all.
// (Not the meta group's: its step-down takes the system account, which
// the showcase's embedded servers do not configure. The meta leader
// creates streams; no lease or note write needs it.)
func leadOnto(t *testing.T, node *showcaseNode) {
	t.Helper()
	nc, err := nats.Connect(node.nats)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	name := nc.ConnectedServerName()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": name}})
	deadline := time.Now().Add(clusterStartTimeout)
	for {
		var streams, led []string
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for s := range js.ListStreams(ctx).Info() {
			streams = append(streams, s.Config.Name)
			if s.Cluster != nil && s.Cluster.Leader == name {
				led = append(led, s.Config.Name)
				continue
			}
			// No answer needed: the next round checks the outcome.
			_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+s.Config.Name, body, 5*time.Second)
		}
		cancel()
		if len(led) == len(streams) && len(streams) >= 4 { // names, entities, members, state
			t.Logf("server %s (node %d) leads every stream: %s", name, node.n, strings.Join(led, ", "))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s leads %v of %v after %s", name, led, streams, clusterStartTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// elections lists, from the survivors' logs, how long after killed each
// stream had a new leader.
func elections(survivors []*showcaseNode, killed time.Time) string {
	var out []string
	for _, n := range survivors {
		for _, line := range strings.Split(n.logs.grep("new stream leader"), "\n") {
			var rec struct {
				Time time.Time `json:"time"`
				Msg  string    `json:"msg"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil || rec.Time.Before(killed) {
				continue
			}
			stream := rec.Msg[strings.LastIndex(rec.Msg, "_")+1:]
			out = append(out, fmt.Sprintf("%s %s", strings.TrimSuffix(stream, "'"), rec.Time.Sub(killed).Round(100*time.Millisecond)))
		}
	}
	return strings.Join(out, ", ")
}
