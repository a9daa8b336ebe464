package actors

import (
	"context"
	"testing"
)

// TestCanRespond tells a Request, which has someone to answer until it is
// answered, from a plain Send, which has not.
func TestCanRespond(t *testing.T) {
	s := newTestSystem(t)
	seen := make(chan bool, 4)
	ref, err := s.Spawn("asker", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case string:
				seen <- c.CanRespond()
				c.Respond(m)
				seen <- c.CanRespond() // answered: nobody left to answer
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Request(context.Background(), ref, "request"); err != nil {
		t.Fatal(err)
	}
	if can, after := wait(t, seen, "request"), wait(t, seen, "after"); !can || after {
		t.Errorf("Request: CanRespond = %v, after Respond = %v; want true, false", can, after)
	}
	if err := s.Send(ref, "send"); err != nil {
		t.Fatal(err)
	}
	if can := wait(t, seen, "send"); can {
		t.Error("a plain Send: CanRespond = true")
	}
	wait(t, seen, "after send")
}
