package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
)

// noteLog records a test entity's activations and passivations.
type noteLog struct {
	mu      sync.Mutex
	started int
	stopped []time.Time
}

// noteEntity is a sharded "note" kept in store: loaded at Started, written
// at each "add" (PutIf with the revision it holds), answering its text.
func noteEntity(log *noteLog, store func() state.Store) actors.EntityProducer {
	return func(key string) actors.Actor {
		var text string
		var rev uint64
		loaded := false
		return actorFunc(func(c *actors.Context, msg any) {
			switch m := msg.(type) {
			case actors.Started:
				log.mu.Lock()
				log.started++
				log.mu.Unlock()
			case actors.Stopped:
				log.mu.Lock()
				log.stopped = append(log.stopped, time.Now())
				log.mu.Unlock()
			case string:
				// Loaded at the first message, not at Started: a store that
				// fails for a moment (a bucket's leader leaving with its
				// node) must fail that message, not start the note empty.
				if !loaded {
					e, err := store().GetEntry(c.Context(), "note/"+key)
					switch {
					case err == nil:
						text, rev = string(e.Value), e.Revision
					case !errors.Is(err, state.ErrNotFound):
						c.Respond(loadFailed + err.Error())
						return
					}
					loaded = true
				}
				next := text + m
				r, err := store().PutIf(c.Context(), "note/"+key, []byte(next), rev)
				if err != nil {
					c.Respond(err.Error())
					return
				}
				text, rev = next, r
				c.Respond(text + "@" + c.Self().Node())
			}
		})
	}
}

func (l *noteLog) counts() (started, stopped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started, len(l.stopped)
}

// loadFailed starts noteEntity's reply when it could not read its state.
const loadFailed = "load: "

// askEntity sends msg to note/key through svc and returns the reply.
func askEntity(t *testing.T, svc *Service, key, msg string) string {
	t.Helper()
	ref, err := svc.Actors().Entity("note", key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := svc.Actors().Request(ctx, ref, msg)
	if err != nil {
		t.Fatalf("Request to note/%s: %v", key, err)
	}
	return got.(string)
}

// TestEntityIdleTimeout: WithEntity registers a kind on the service's
// System; actors.sharding.idle_timeout passivates an idle entity (its stop
// hook runs), and its state, in State() (memory here), is back at the
// next activation.
func TestEntityIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	log := &noteLog{}
	var svc *Service
	r := start(t, map[string]string{"ACTORS__SHARDING__IDLE_TIMEOUT": idle.String()},
		WithEntity("note", noteEntity(log, func() state.Store { return svc.State() })))
	svc = r.svc
	if _, ok := svc.State().(*state.Memory); !ok {
		t.Errorf("State() without NATS or Redis is %T, want memory", svc.State())
	}
	if got := askEntity(t, svc, "1", "a"); got != "a@" {
		t.Fatalf("first message: %q", got)
	}
	last := time.Now()
	waitFor(t, func() bool { _, stopped := log.counts(); return stopped == 1 })
	log.mu.Lock()
	after := log.stopped[0].Sub(last)
	log.mu.Unlock()
	if after < idle/2 {
		t.Errorf("passivated %s after the last message; idle_timeout %s", after, idle)
	}
	if got := askEntity(t, svc, "1", "b"); got != "ab@" {
		t.Errorf("after passivation: %q, want the state kept (ab)", got)
	}
	if started, _ := log.counts(); started != 2 {
		t.Errorf("%d activations, want 2", started)
	}
}

// TestEntityConfigChecks: a bad kind is refused at New, and
// actors.sharding.idle_timeout must be positive.
func TestEntityConfigChecks(t *testing.T) {
	_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithEntity("a/b", noteEntity(&noteLog{}, nil)))
	if err == nil || !strings.Contains(err.Error(), `entity kind "a/b"`) {
		t.Errorf("a kind with '/': %v", err)
	}
	_, err = New("test", WithConfigLoader(testLoader(t, map[string]string{"ACTORS__SHARDING__IDLE_TIMEOUT": "0s"})))
	if err == nil || !strings.Contains(err.Error(), "actors.sharding.idle_timeout") {
		t.Errorf("idle_timeout 0: %v", err)
	}
}

// TestEntityStateAcrossNodes: in a cluster State() is the JetStream
// bucket troupe_<service>_state, and a note written through node 1 moves
// with its state to node 2 when node 1 stops (three nodes, so that two
// keep JetStream's quorum).
func TestEntityStateAcrossNodes(t *testing.T) {
	withStateHome(t)
	log := &noteLog{}
	svcs := make([]*Service, 3)
	opt := func(i int) []Option {
		return []Option{WithEntity("note", noteEntity(log, func() state.Store { return svcs[i].State() }))}
	}
	nodes := startRouted(t, [][]Option{opt(0), opt(1), opt(2)})
	for i, n := range nodes {
		svcs[i] = n.svc
	}
	for i, want := range []string{"x@n1", "xy@n1"} {
		if got := askEntity(t, svcs[0], "7", want[i:i+1]); got != want {
			t.Fatalf("through node 1: %q, want %q", got, want)
		}
	}
	if got := askEntity(t, svcs[1], "7", "z"); got != "xyz@n1" {
		t.Fatalf("through node 2: %q, want the activation on n1", got)
	}
	e, err := svcs[1].State().GetEntry(context.Background(), "note/7")
	if err != nil || string(e.Value) != "xyz" {
		t.Fatalf("node 2 reads the state: %q, %v", e.Value, err)
	}
	nodes[0].cancel()
	<-nodes[0].done
	// Node 1's server may have led the state bucket: reads fail until
	// the survivors have a leader, and the entity says so.
	var got string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = askEntity(t, svcs[1], "7", "!")
		if !strings.HasPrefix(got, loadFailed) || time.Now().After(deadline) {
			break
		}
	}
	if got != "xyz!@n2" {
		t.Errorf("after node 1 stopped: %q, want the state on n2", got)
	}
	if _, err := svcs[1].State().Get(context.Background(), "nothing"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get of a missing key: %v", err)
	}
}
