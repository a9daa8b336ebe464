package wasmbench

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// rawEcho drives the Troupe echo guest with wazero directly, the way the
// component runtime does but with no actor around it: export handles looked
// up once, one troupe_alloc buffer reused by every message (the runtime's
// inbox, which the ABI allows), so a message is one call through
// CallWithStack, the message copied in and the reply copied out. It is the
// floor for BenchmarkTroupeRequest.
type rawEcho struct {
	mem     api.Memory
	receive api.Function
	inbox   uint32
	stack   [3]uint64
}

// inboxSize is the buffer rawEcho asks troupe_alloc for, as the runtime
// asks for at least 4 KiB.
const inboxSize = 4 << 10

// newRawEcho instantiates testdata/troupe_echo.wat in a fresh wazero
// runtime. closeOnDone compiles it with WithCloseOnContextDone, as Troupe
// does so that its watchdog can stop a runaway guest.
func newRawEcho(tb testing.TB, closeOnDone bool) *rawEcho {
	tb.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
	tb.Cleanup(func() { _ = rt.Close(context.Background()) })
	mod, err := rt.Instantiate(ctx, readWAT(tb, "troupe_echo"))
	if err != nil {
		tb.Fatalf("Instantiate: %v", err)
	}
	e := &rawEcho{mem: mod.Memory(), receive: mod.ExportedFunction("troupe_receive")}
	e.stack[0] = inboxSize
	if err := mod.ExportedFunction("troupe_alloc").CallWithStack(ctx, e.stack[:]); err != nil || e.stack[0] == 0 {
		tb.Fatalf("troupe_alloc(%d) = %d, %v", inboxSize, e.stack[0], err)
	}
	e.inbox = uint32(e.stack[0])
	return e
}

// call delivers msg as a kind 1 message and returns a copy of the reply
// payload, after checking the ok status byte; nil on any failure.
func (e *rawEcho) call(ctx context.Context, msg []byte) []byte {
	if len(msg) > inboxSize || !e.mem.Write(e.inbox, msg) {
		return nil
	}
	s := e.stack[:]
	s[0], s[1], s[2] = 1, uint64(e.inbox), uint64(len(msg))
	if err := e.receive.CallWithStack(ctx, s); err != nil {
		return nil
	}
	reply, ok := e.mem.Read(uint32(s[0]>>32), uint32(s[0]))
	if !ok || len(reply) == 0 || reply[0] != 0 {
		return nil
	}
	return bytes.Clone(reply[1:])
}

var rawCases = []struct {
	name        string
	closeOnDone bool
}{
	{"plain", false},
	{"close-on-done", true},
}

func TestRawEcho(t *testing.T) {
	for _, tc := range rawCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newRawEcho(t, tc.closeOnDone)
			for range 2 {
				if got := e.call(context.Background(), payload); !bytes.Equal(got, payload) {
					t.Fatalf("reply %q, want %q", got, payload)
				}
			}
		})
	}
}

// TestRawEchoRejectsOtherKinds checks the guest's error reply, so the
// echo is a well-behaved ABI v1 component and not just a mirror.
func TestRawEchoRejectsOtherKinds(t *testing.T) {
	e := newRawEcho(t, false)
	s := e.stack[:]
	s[0], s[1], s[2] = 2, 1025, 0
	if err := e.receive.CallWithStack(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	reply, ok := e.mem.Read(uint32(s[0]>>32), uint32(s[0]))
	if !ok || len(reply) == 0 || reply[0] != 1 {
		t.Fatalf("reply to kind 2 = %q, want an error reply (status 1)", reply)
	}
	if want := "echo: unsupported message kind"; string(reply[1:]) != want {
		t.Fatalf("error text %q, want %q", reply[1:], want)
	}
}

// BenchmarkWazeroCall measures the raw 64-byte round trip through the
// guest's linear memory, with and without WithCloseOnContextDone.
func BenchmarkWazeroCall(b *testing.B) {
	for _, tc := range rawCases {
		b.Run(tc.name, func(b *testing.B) {
			e := newRawEcho(b, tc.closeOnDone)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if e.call(ctx, payload) == nil {
					b.Fatal("echo failed")
				}
			}
		})
	}
}
