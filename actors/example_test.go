package actors_test

import (
	"context"
	"fmt"
	"time"

	"github.com/troupehq/troupe/actors"
)

// Greeter answers a name with a greeting and counts the names it has seen.
type Greeter struct{ seen int }

func (g *Greeter) Receive(c *actors.Context, msg any) {
	if name, ok := msg.(string); ok {
		g.seen++
		c.Respond(fmt.Sprintf("hello, %s (#%d)", name, g.seen))
	}
}

func ExampleSystem_Request() {
	sys := actors.NewSystem()
	defer sys.Shutdown(context.Background())

	ref, err := sys.Spawn("greeter", func() actors.Actor { return &Greeter{} })
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, name := range []string{"ada", "grace"} {
		reply, err := sys.Request(ctx, ref, name)
		fmt.Println(reply, err)
	}
	// Output:
	// hello, ada (#1) <nil>
	// hello, grace (#2) <nil>
}

func ExampleSystem_Publish() {
	sys := actors.NewSystem()
	defer sys.Shutdown(context.Background())

	got := make(chan string, 2)
	subscribed := make(chan struct{})
	_, err := sys.Spawn("audit", func() actors.Actor {
		return actorFunc(func(c *actors.Context, msg any) {
			switch m := msg.(type) {
			case actors.Started:
				if _, err := c.Subscribe("orders.>"); err != nil {
					panic(err)
				}
				close(subscribed)
			case string:
				got <- m
			}
		})
	})
	if err != nil {
		panic(err)
	}
	<-subscribed
	n, _ := sys.Publish("orders.eu.created", "order 42 created")
	fmt.Println(n, <-got)
	n, _ = sys.Publish("invoices.created", "ignored")
	fmt.Println(n)
	// Output:
	// 1 order 42 created
	// 0
}

// actorFunc adapts a function to actors.Actor.
type actorFunc func(c *actors.Context, msg any)

func (f actorFunc) Receive(c *actors.Context, msg any) { f(c, msg) }

func ExampleOneForAll() {
	sys := actors.NewSystem()
	defer sys.Shutdown(context.Background())

	// A supervisor whose two children only work together: if one fails,
	// both restart, after 10 ms doubling up to 1 s, at most 5 times a minute.
	_, err := sys.Spawn("pipeline", func() actors.Actor {
		return actorFunc(func(c *actors.Context, msg any) {
			if _, ok := msg.(actors.Started); ok {
				c.Spawn("reader", func() actors.Actor { return &Greeter{} })
				c.Spawn("writer", func() actors.Actor { return &Greeter{} })
			}
		})
	}, actors.WithSupervisor(actors.OneForAll(
		actors.MaxRestarts(5, time.Minute),
		actors.Backoff(10*time.Millisecond, time.Second),
	)))
	fmt.Println(err)
	// Output: <nil>
}
