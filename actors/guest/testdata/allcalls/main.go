// Command allcalls is a component that links every host function and
// export of the SDK, so the ABI test can check all their signatures; the
// examples each link only the functions they use.
package main

import (
	"time"

	"github.com/troupehq/troupe/actors/guest"
)

func init() {
	guest.Handle(func(ctx guest.Context, msg []byte) ([]byte, error) {
		ctx.Log(guest.LevelInfo, ctx.Self())
		_ = guest.Send("a", msg)
		_, _ = guest.Request("a", msg, time.Second)
		_ = guest.Publish("t", msg)
		_ = guest.Subscribe("t.>")
		_, _ = guest.KVGet("ns", "k")
		_ = guest.KVPut("ns", "k", msg)
		_ = guest.KVDelete("ns", "k")
		_, _ = guest.Get("https://example.com/")
		_ = guest.Random(msg)
		return []byte(guest.Now().String()), nil
	})
	guest.HandleHTTP(func(guest.Context, *guest.HTTPRequest) (*guest.HTTPResponse, error) { return nil, nil })
	guest.HandlePublication(func(guest.Context, string, []byte) error { return nil })
	guest.OnInit(func() error { return nil })
	guest.OnHealth(func() error { return nil })
	guest.OnStop(func() {})
}

func main() {}
