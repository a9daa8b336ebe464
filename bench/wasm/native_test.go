package wasmbench

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/troupehq/troupe/actors"
)

// newSystem returns an actor System that logs nowhere, so log output is
// not part of what is measured, and stops when the test ends.
func newSystem(tb testing.TB) *actors.System {
	tb.Helper()
	sys := actors.NewSystem(actors.WithLogger(slog.New(slog.DiscardHandler)))
	tb.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	return sys
}

// nativeEcho is the echo as a native actor: the floor a WASM component's
// round trip is compared with.
type nativeEcho struct{}

func (nativeEcho) Receive(c *actors.Context, msg any) {
	if b, ok := msg.([]byte); ok {
		c.Respond(b)
	}
}

func spawnNativeEcho(tb testing.TB, sys *actors.System) actors.Ref {
	tb.Helper()
	ref, err := sys.Spawn("", func() actors.Actor { return nativeEcho{} })
	if err != nil {
		tb.Fatalf("Spawn: %v", err)
	}
	return ref
}

// request sends payload to ref and returns the reply, which must be []byte.
func request(tb testing.TB, sys *actors.System, ref actors.Ref) []byte {
	tb.Helper()
	reply, err := sys.Request(context.Background(), ref, payload)
	if err != nil {
		tb.Fatalf("Request: %v", err)
	}
	b, ok := reply.([]byte)
	if !ok {
		tb.Fatalf("Request replied %T, want []byte", reply)
	}
	return b
}

func TestNativeEcho(t *testing.T) {
	sys := newSystem(t)
	ref := spawnNativeEcho(t, sys)
	if got := request(t, sys, ref); !bytes.Equal(got, payload) {
		t.Fatalf("reply %q, want %q", got, payload)
	}
}

// BenchmarkNativeActorRequest measures System.Request into a native echo
// actor with the same 64-byte payload, from one caller.
func BenchmarkNativeActorRequest(b *testing.B) {
	sys := newSystem(b)
	ref := spawnNativeEcho(b, sys)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sys.Request(ctx, ref, payload); err != nil {
			b.Fatal(err)
		}
	}
}
