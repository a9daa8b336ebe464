package actors

import (
	"context"
	"errors"
	"testing"
)

func TestRemoteRequestSendAndSender(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	n1, n2 := nodes[0], nodes[1]
	if _, err := n2.Spawn("echo", nodeEcho); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "echo")
	if ref.Node() != "n2" || ref.Name() != "echo" {
		t.Fatalf("Lookup from n1 = %s on %q, want echo on n2", ref, ref.Node())
	}
	got, err := ask(t, n1, ref, ping{N: 7, Text: "hi"})
	if err != nil || got != (ping{N: 7, Text: "hi"}) {
		t.Fatalf("Request = %v, %v; want the ping back", got, err)
	}
	if got, err := ask(t, n1, ref, whoAmI{}); err != nil || got != "n2" {
		t.Fatalf("the echo runs on %v (%v), want n2", got, err)
	}
	// An actor on n1 sends to the remote echo; the echo's Respond goes
	// back to it through its remote Sender.
	replies := make(chan any, 1)
	asker, err := n1.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case string:
				if err := c.Send(ref, ping{Text: m}); err != nil {
					t.Error(err)
				}
			case ping:
				if c.Sender() != ref {
					t.Errorf("Sender = %s, want %s", c.Sender(), ref)
				}
				replies <- m
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n1.Send(asker, "round trip"); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, replies, "the reply to a remote Send"); got != (ping{Text: "round trip"}) {
		t.Fatalf("reply = %v", got)
	}
}

func TestRemoteNameTakenAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	if _, err := nodes[0].Spawn("unique", nodeEcho); err != nil {
		t.Fatal(err)
	}
	_, err := nodes[1].Spawn("unique", nodeEcho)
	var taken *NameTakenError
	if !errors.As(err, &taken) || taken.Name != "unique" {
		t.Fatalf("Spawn of a name held on another node = %v, want *NameTakenError", err)
	}
	if _, err := nodes[1].Lookup("unique"); err != nil {
		t.Fatal(err)
	}
	_ = context.Background()
}
