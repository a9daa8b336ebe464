package guest

import (
	"encoding/binary"
	"testing"
)

// FuzzReceive feeds arbitrary messages of every kind to a registry with
// every handler: whatever the host sends, the guest answers a well-formed
// reply and never panics.
func FuzzReceive(f *testing.F) {
	f.Add(int32(KindMessage), []byte("hello"))
	f.Add(int32(KindMessage), []byte("panic"))
	f.Add(int32(KindHTTP), []byte(`{"method":"GET","params":{"id":"n1"},"principal":{"subject":"a"}}`))
	f.Add(int32(KindHTTP), []byte(`{"body":"not base64!"}`))
	f.Add(int32(KindPublication), publication("orders.new", "o1"))
	f.Add(int32(KindPublication), []byte{0xff, 0xff, 0xff, 0xff, 'a'})
	f.Add(int32(0), []byte{})
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, kind int32, msg []byte) {
		out := reg.receive(Kind(kind), msg)
		if len(out) > 0 && out[0] != statusOK && out[0] != statusError {
			t.Fatalf("reply %q starts with status %d", out, out[0])
		}
	})
}

// FuzzDecodePublication checks that a decoded publication is exactly its
// framing: the subject and data it returns re-encode to the message.
func FuzzDecodePublication(f *testing.F) {
	f.Add(publication("orders.new", "o1"))
	f.Add(publication("", ""))
	f.Add([]byte{3, 0, 0})
	f.Add([]byte{0, 0, 0, 0x80, 'x'})
	f.Fuzz(func(t *testing.T, msg []byte) {
		subject, data, err := decodePublication(msg)
		if err != nil {
			if len(msg) >= 4 && uint64(binary.LittleEndian.Uint32(msg)) <= uint64(len(msg)-4) {
				t.Fatalf("rejected a well-framed message %q: %v", msg, err)
			}
			return
		}
		if got := publication(subject, string(data)); string(got) != string(msg) {
			t.Fatalf("decoded %q, %q from %q, which re-encodes to %q", subject, data, msg, got)
		}
	})
}
