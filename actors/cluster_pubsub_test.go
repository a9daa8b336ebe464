package actors

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// tally counts what each subscriber received, by subscriber and text.
type tally struct {
	mu  sync.Mutex
	got map[string]int
}

func (t *tally) add(key string) {
	t.mu.Lock()
	t.got[key]++
	t.mu.Unlock()
}

func (t *tally) get(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.got[key]
}

// subscriber counts the pings it receives under its name.
func subscriber(name string, tl *tally, patterns ...string) Producer {
	return func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case Started:
				for _, p := range patterns {
					if _, err := c.Subscribe(p); err != nil {
						panic(err)
					}
				}
			case ping:
				tl.add(name + "/" + m.Text)
			}
		})
	}
}

// TestRemotePubSubExactlyOnce: every (pattern, actor) subscription on
// every node receives each publication once, the publisher's own
// subscribers included — as locally, an actor subscribed under two
// matching patterns holds two subscriptions.
func TestRemotePubSubExactlyOnce(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	tl := &tally{got: map[string]int{}}
	subs := []struct {
		node     int
		name     string
		patterns []string
	}{
		{0, "a", []string{"orders.*"}},
		{1, "b", []string{"orders.*", "orders.>"}},
		{2, "c", []string{"orders.>"}},
		{2, "d", []string{"billing.*"}},
	}
	for _, s := range subs {
		if _, err := nodes[s.node].Spawn(s.name, subscriber(s.name, tl, s.patterns...)); err != nil {
			t.Fatal(err)
		}
	}
	// Interest spreads through the NATS routes asynchronously: probe until
	// every subscriber has heard from every node.
	for i, s := range nodes {
		probe := fmt.Sprint("probe-", i)
		eventually(t, "subscriptions spreading", func() error {
			if _, err := s.Publish("orders.probe", ping{Text: probe}); err != nil {
				return err
			}
			for _, name := range []string{"a", "b", "c"} {
				if tl.get(name+"/"+probe) == 0 {
					return fmt.Errorf("%s has not heard from n%d", name, i+1)
				}
			}
			return nil
		})
	}
	for i, s := range nodes {
		text := fmt.Sprint("from-", i)
		delivered, err := s.Publish("orders.created", ping{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 2, 1}[i]; delivered != want {
			t.Errorf("Publish on n%d delivered locally to %d, want %d", i+1, delivered, want)
		}
		want := map[string]int{"a/" + text: 1, "b/" + text: 2, "c/" + text: 1, "d/" + text: 0}
		eventually(t, "the publication everywhere", func() error {
			for k, n := range want {
				if got := tl.get(k); got < n {
					return fmt.Errorf("%s received %d", k, got)
				}
			}
			return nil
		})
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show
		for k, n := range want {
			if got := tl.get(k); got != n {
				t.Errorf("%s received %d copies, want %d", k, got, n)
			}
		}
	}
	// An unregistered type cannot cross the wire: Publish says so, and
	// still delivers to this node's subscribers, as outside a cluster.
	local, err := nodes[0].Publish("orders.created", ping{})
	if err != nil || local == 0 {
		t.Fatalf("Publish = %d, %v; want local subscribers", local, err)
	}
	type unregistered struct{}
	if n, err := nodes[0].Publish("orders.created", unregistered{}); !errors.Is(err, ErrUnregisteredType) || n != local {
		t.Fatalf("Publish of an unregistered type = %d, %v; want %d local deliveries, ErrUnregisteredType", n, err, local)
	}
}

// TestRemotePubSubUnsubscribe: the last local subscriber of a pattern
// leaving ends the node's NATS subscription; other nodes' publications no
// longer reach it.
func TestRemotePubSubUnsubscribe(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	tl := &tally{got: map[string]int{}}
	ref, err := nodes[1].Spawn("listener", subscriber("l", tl, "news.>"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the subscription spreading", func() error {
		if _, err := nodes[0].Publish("news.today", ping{Text: "x"}); err != nil {
			return err
		}
		if tl.get("l/x") == 0 {
			return errors.New("not heard")
		}
		return nil
	})
	_ = nodes[1].Stop(ref)
	wait(t, nodes[1].Done(ref), "the listener's end")
	nodes[1].cluster.Load().topics.mu.Lock()
	left := len(nodes[1].cluster.Load().topics.m)
	nodes[1].cluster.Load().topics.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d NATS topic subscriptions remain after the last subscriber stopped", left)
	}
}
