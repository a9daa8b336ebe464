package actors_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
)

// Counter is a sharded entity: one per key, its count kept in a state
// store, so it survives passivation — and, with a shared store such as
// JetStream KV, a move to another node.
type Counter struct {
	key   string
	store state.Store
	n     int
	rev   uint64
}

func (c *Counter) Receive(ctx *actors.Context, msg any) {
	switch msg.(type) {
	case actors.Started: // activation: load the state
		if e, err := c.store.GetEntry(ctx.Context(), c.key); err == nil {
			c.n, _ = strconv.Atoi(string(e.Value))
			c.rev = e.Revision
		}
	case string: // "incr": write with the revision read, so a stale owner conflicts
		rev, err := c.store.PutIf(ctx.Context(), c.key, []byte(strconv.Itoa(c.n+1)), c.rev)
		if err != nil {
			ctx.Respond(err)
			return
		}
		c.n, c.rev = c.n+1, rev
		ctx.Respond(c.n)
	}
}

func ExampleWithSharding() {
	store := state.NewMemory(0)
	sys := actors.NewSystem(
		actors.WithDefaults(actors.Config{EntityIdleTimeout: 50 * time.Millisecond}),
		actors.WithSharding("counter", func(key string) actors.Actor {
			return &Counter{key: "counter/" + key, store: store}
		}),
	)
	defer sys.Shutdown(context.Background())

	ref, err := sys.Entity("counter", "42") // no spawn: the first message activates it
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(sys.Request(ctx, ref, "incr"))
	fmt.Println(sys.Request(ctx, ref, "incr"))

	// Idle for 50 ms, it is passivated; the next message activates it
	// again, and it loads its state.
	<-sys.Done(ref)
	fmt.Println(sys.Request(ctx, ref, "incr"))
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 <nil>
}
