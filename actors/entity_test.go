package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// activations records the lifecycle of sharded test entities: which node
// runs each key now, how often each was activated, and the processing
// intervals of each node (for the fencing test).
type activations struct {
	mu        sync.Mutex
	running   map[string][]string // key → nodes running an activation
	started   map[string]int      // key → activations so far
	stoppedAt map[string]time.Time
	keys      []string // the keys the producer was given
}

func newActivations() *activations {
	return &activations{running: map[string][]string{}, started: map[string]int{}, stoppedAt: map[string]time.Time{}}
}

// incr asks a counter entity to add one and reply with its count.
type incr struct{}

// slow makes a counter entity work for D before replying with its node.
type slow struct{ D time.Duration }

func init() {
	RegisterMessage[incr]("actors.test.incr")
	RegisterMessage[slow]("actors.test.slow")
}

// counter is the test entity: it counts incr messages in memory and
// answers whoAmI with its node.
func (a *activations) counter(key string) Actor {
	a.mu.Lock()
	a.keys = append(a.keys, key)
	a.mu.Unlock()
	n := 0
	return fn(func(c *Context, msg any) {
		switch m := msg.(type) {
		case Started:
			a.mu.Lock()
			a.running[key] = append(a.running[key], c.Self().Node())
			a.started[key]++
			a.mu.Unlock()
		case Stopped:
			a.mu.Lock()
			node := c.Self().Node()
			for i, on := range a.running[key] {
				if on == node {
					a.running[key] = append(a.running[key][:i], a.running[key][i+1:]...)
					break
				}
			}
			a.stoppedAt[key] = time.Now()
			a.mu.Unlock()
		case incr:
			n++
			c.Respond(n)
		case whoAmI:
			c.Respond(c.Self().Node())
		case slow:
			time.Sleep(m.D)
			c.Respond(c.Self().Node())
		}
	})
}

// on returns the nodes running key now.
func (a *activations) on(key string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.running[key]...)
}

func (a *activations) count(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.started[key]
}

func (a *activations) stopped(key string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.stoppedAt[key]
	return at, ok
}

// entity returns kind/key's Ref on s.
func entity(t testing.TB, s *System, kind, key string) Ref {
	t.Helper()
	ref, err := s.Entity(kind, key)
	if err != nil {
		t.Fatalf("Entity(%q, %q): %v", kind, key, err)
	}
	return ref
}

// TestEntityWithoutCluster: on one System an entity activates on its
// first message with its key, keeps its state while active, passivates
// when idle (its stop hook runs) and activates afresh on its next message.
func TestEntityWithoutCluster(t *testing.T) {
	const idle = 200 * time.Millisecond
	acts := newActivations()
	s := NewSystem(WithLogger(quiet), WithDefaults(Config{EntityIdleTimeout: idle}), WithSharding("counter", acts.counter))
	defer func() { _ = s.Shutdown(context.Background()) }()

	if _, err := s.Entity("nope", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unregistered kind: %v", err)
	}
	if _, err := s.Entity("counter", ""); err == nil {
		t.Error("an empty key: no error")
	}
	a := entity(t, s, "counter", "a")
	if a != entity(t, s, "counter", "a") {
		t.Error("two Refs to one entity differ")
	}
	if acts.count("a") != 0 {
		t.Fatal("activated before its first message")
	}
	for range 3 {
		if err := s.Send(a, incr{}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ask(t, s, a, incr{}); err != nil || got != 4 {
		t.Fatalf("the fourth incr: %v, %v; want 4", got, err)
	}
	if got, err := ask(t, s, entity(t, s, "counter", "b"), incr{}); err != nil || got != 1 {
		t.Errorf("another key: %v, %v; want 1", got, err)
	}
	last := time.Now()
	if acts.count("a") != 1 || fmt.Sprint(acts.keys) != "[a b]" {
		t.Errorf("activations of a: %d, keys given %v", acts.count("a"), acts.keys)
	}

	eventually(t, "a passivated", func() error {
		if _, ok := acts.stopped("a"); !ok {
			return errors.New("still active")
		}
		return nil
	})
	if at, _ := acts.stopped("a"); at.Sub(last) < idle/2 {
		t.Errorf("passivated %s after its last message; idle timeout %s", at.Sub(last), idle)
	}
	if got, err := ask(t, s, a, incr{}); err != nil || got != 1 || acts.count("a") != 2 {
		t.Errorf("after passivation: %v, %v, %d activations; want a fresh count of 1 and 2 activations", got, err, acts.count("a"))
	}

	// Stop passivates at once; the next message activates it again.
	done := s.Done(a)
	if err := s.Stop(a); err != nil {
		t.Fatal(err)
	}
	wait(t, done, "Done after Stop")
	if err := s.Stop(a); !errors.Is(err, ErrStopped) {
		t.Errorf("Stop of a passive entity: %v", err)
	}
	if got, err := ask(t, s, a, incr{}); err != nil || got != 1 || acts.count("a") != 3 {
		t.Errorf("after Stop: %v, %v, %d activations", got, err, acts.count("a"))
	}
}

// TestWithShardingRefusesBadKinds: an invalid registration is an error
// at NewSystemContext and a panic at NewSystem.
func TestWithShardingRefusesBadKinds(t *testing.T) {
	acts := newActivations()
	for name, opt := range map[string]Option{
		"empty kind":  WithSharding("", acts.counter),
		"slash":       WithSharding("a/b", acts.counter),
		"nil":         WithSharding("k", nil),
		"twice":       func(s *System) { WithSharding("k", acts.counter)(s); WithSharding("k", acts.counter)(s) },
		"a long kind": WithSharding(string(make([]byte, 65)), acts.counter),
	} {
		if s, err := NewSystemContext(context.Background(), opt); err == nil {
			_ = s.Shutdown(context.Background())
			t.Errorf("%s: no error", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewSystem with a bad kind did not panic")
		}
	}()
	NewSystem(WithSharding("", acts.counter))
}
