package wasm

import (
	"context"
	"net/http"
	"testing"

	"github.com/troupehq/troupe/actors"
)

// BenchmarkComponentHTTP measures one HTTP request through a Go guest
// (examples/components/greeter, built with the SDK) as actors.Route
// delivers it, with the request of a browser behind the service's
// middleware: in the binary layout the SDK asks for (kind 4), and in the
// JSON layout (kind 2) the host sends guests without troupe_http_binary.
// The difference is what the guest pays to read and write JSON under
// termination checks (docs/benchmarks.md, issue 19 item 3).
func BenchmarkComponentHTTP(b *testing.B) {
	wasm := benchGoGreeter(b)
	req := &actors.HTTPRequest{
		Method: http.MethodGet, Route: "/api/v2/greet/:name", Params: map[string]string{"name": "ada"},
		Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"Mozilla/5.0 (X11; Linux x86_64)"},
			"X-Request-Id": {"F5DLRDVX2UNRREEXR5LNP5OEXJ"}, "Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
		RemoteIP: "192.0.2.1",
	}
	for _, layout := range []struct {
		name   string
		binary bool
	}{{"json-kind2", false}, {"binary-kind4", true}} {
		b.Run(layout.name, func(b *testing.B) {
			e := rtNew(b, RuntimeOptions{})
			c := benchLoad(b, e, "greeter", wasm)
			c.cur.Load().binaryHTTP = layout.binary
			ref, err := e.rt.Spawn(context.Background(), c)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				reply, err := e.sys.Request(ctx, ref, req)
				if err != nil {
					b.Fatal(err)
				}
				if r, ok := reply.(*actors.HTTPResponse); !ok || r.Status != http.StatusOK {
					b.Fatalf("reply %T %v", reply, reply)
				}
			}
		})
	}
}

// benchGoGreeter returns examples/components/greeter built for wasip1, once
// per process, or skips without go.
func benchGoGreeter(tb testing.TB) []byte {
	tb.Helper()
	benchGoEcho(tb) // skips without the go command
	wasm, err := buildGoGreeter()
	if err != nil {
		tb.Fatal(err)
	}
	return wasm
}

var buildGoGreeter = buildExampleOnce("greeter")
