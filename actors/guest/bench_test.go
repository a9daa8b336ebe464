package guest

import "testing"

// BenchmarkReceive measures the guest side of one 64-byte message round
// trip: dispatch and reply framing, without the wasm boundary.
func BenchmarkReceive(b *testing.B) {
	reg := &registry{message: func(_ Context, msg []byte) ([]byte, error) { return msg, nil }}
	msg := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		reg.receive(KindMessage, msg)
	}
}

// BenchmarkReceivePublication measures a kind 3 delivery, whose subject
// becomes a string for the handler.
func BenchmarkReceivePublication(b *testing.B) {
	reg := &registry{publication: func(Context, string, []byte) error { return nil }}
	msg := publication("orders.eu.new", string(make([]byte, 64)))
	b.ReportAllocs()
	for b.Loop() {
		reg.receive(KindPublication, msg)
	}
}
