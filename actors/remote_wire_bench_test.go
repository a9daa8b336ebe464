package actors

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// BenchmarkEnvelopeDecode compares the envelope's binary decoder with
// carrying the same fields in NATS headers, which nats.go parses into a
// map on every receipt (docs/cluster.md#envelope): the request envelope
// of seedEnvelopes, with a trace context.
func BenchmarkEnvelopeDecode(b *testing.B) {
	w := seedEnvelopes()[1]
	b.Run("binary", func(b *testing.B) {
		data := appendWire(nil, &w)
		b.ReportAllocs()
		for b.Loop() {
			var m wireMsg
			if err := decodeWire(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nats-headers", func(b *testing.B) {
		h := nats.Header{}
		h.Set("Troupe-Version", "1")
		h.Set("Troupe-Kind", strconv.Itoa(int(w.kind)))
		h.Set("Troupe-Corr", strconv.FormatUint(w.corr, 10))
		h.Set("Troupe-Deadline", strconv.FormatInt(w.deadline, 10))
		h.Set("Troupe-From", w.from.node+"/"+strconv.FormatUint(w.from.id, 10)+"/"+w.from.name)
		h.Set("Troupe-To", w.to.node+"/"+strconv.FormatUint(w.to.id, 10)+"/"+w.to.name)
		h.Set("Troupe-Type", w.typeName)
		h.Set("Content-Type", "text/plain")
		for i := 0; i+1 < len(w.trace); i += 2 {
			h.Set(w.trace[i], w.trace[i+1])
		}
		var sb strings.Builder
		sb.WriteString("NATS/1.0\r\n")
		if err := http.Header(h).Write(&sb); err != nil {
			b.Fatal(err)
		}
		sb.WriteString("\r\n")
		raw := []byte(sb.String())
		b.ReportAllocs()
		for b.Loop() {
			hdr, err := nats.DecodeHeadersMsg(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := strconv.ParseUint(hdr.Get("Troupe-Corr"), 10, 64); err != nil {
				b.Fatal(err)
			}
			if _, err := strconv.ParseInt(hdr.Get("Troupe-Deadline"), 10, 64); err != nil {
				b.Fatal(err)
			}
		}
	})
}
