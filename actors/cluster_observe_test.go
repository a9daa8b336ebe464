package actors

import (
	"context"
	"errors"
	"testing"

	"github.com/troupehq/troupe/internal/natstest"
)

// TestObserverSeesRemoteHops: a message from another node is observed on
// the receiving node as itself (never the runtime's wrapper), with its
// remote sender, and Receive gets the bare message.
func TestObserverSeesRemoteHops(t *testing.T) {
	srv := natstest.Run(t)
	rec := newRecorder()
	rec.sample = func(_ context.Context, msg any) bool { _, ok := msg.(ping); return ok || msg == "silent" }
	n1 := startNode(t, testClusterConfig(clusterConn(t, srv), "n1"))
	n2 := startNode(t, testClusterConfig(clusterConn(t, srv), "n2"), WithObserver(rec))
	if _, err := n2.Spawn("echo", replier(nil)); err != nil {
		t.Fatal(err)
	}
	echo := lookup(t, n1, "echo")

	if got, err := ask(t, n1, echo, ping{N: 1}); err != nil || got != (ping{N: 1}) {
		t.Fatalf("Request across nodes = %v, %v; want the ping back", got, err)
	}
	o := rec.next(t)
	if o.Message != (ping{N: 1}) || !o.Request || o.Outcome != OutcomeReplied || o.Actor.Name() != "echo" {
		t.Errorf("the remote request was observed as %+v", o)
	}

	replies := make(chan any, 1)
	sender, err := n1.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case string:
				_ = c.Send(echo, ping{N: 2, Text: m})
			case ping:
				replies <- m
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n1.Send(sender, "go"); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, replies, "the echo's reply"); got != (ping{N: 2, Text: "go"}) {
		t.Errorf("the sender got %v back", got)
	}
	o = rec.next(t)
	if o.Message != (ping{N: 2, Text: "go"}) || o.Request || o.Outcome != OutcomeDone || o.From.Node() != "n1" || o.From.ID() != sender.ID() {
		t.Errorf("the remote send was observed as %+v (from %s)", o, o.From)
	}

	if _, err := ask(t, n1, echo, "silent"); !errors.Is(err, ErrNoReply) {
		t.Fatalf("an unanswered remote request = %v, want ErrNoReply", err)
	}
	if o = rec.next(t); o.Message != "silent" || o.Outcome != OutcomeNoReply {
		t.Errorf("the unanswered remote request was observed as %+v", o)
	}
}
