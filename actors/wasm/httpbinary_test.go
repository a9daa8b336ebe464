package wasm

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

// TestHTTPLayoutFollowsTheGuest checks that a guest built with the Go SDK,
// which exports troupe_http_binary, gets its HTTP requests in the binary
// layout (kind 4), and a guest without the export keeps kind 2 JSON; both
// answer the same request.
func TestHTTPLayoutFollowsTheGuest(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	for _, g := range []struct {
		name   string
		wasm   []byte
		binary bool
	}{
		{"wat-echo", rtEcho(t, "v1"), false},
		{"go-echo", benchGoEcho(t), true},
	} {
		t.Run(g.name, func(t *testing.T) {
			c := benchLoad(t, e, g.name, g.wasm)
			if got := c.cur.Load().binaryHTTP; got != g.binary {
				t.Fatalf("binaryHTTP = %v, want %v", got, g.binary)
			}
			ref, err := e.rt.Spawn(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			reply, err := e.sys.Request(ctx, ref, &actors.HTTPRequest{Method: http.MethodGet, Route: "/x", Params: map[string]string{"id": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := reply.(*GuestError); !ok && reply != nil {
				if _, ok := reply.(*actors.HTTPResponse); !ok {
					t.Fatalf("reply %T %v, want an HTTP response or the guest's error", reply, reply)
				}
			}
		})
	}
}
