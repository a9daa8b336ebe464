package guest

import (
	"encoding/json"
	"testing"

	"github.com/troupehq/troupe/actors/internal/abi"
)

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

// The codecs of an HTTP request and response, natively: what each costs
// in allocations and relative time. In a guest every figure is several
// times higher, and allocations and taken branches weigh most
// (docs/benchmarks.md, issue 19 item 3); BenchmarkComponentHTTP in
// actors/wasm measures them there.
func BenchmarkDecodeHTTPRequest(b *testing.B) {
	msg := []byte(showcaseRequest)
	var std HTTPRequest
	if err := json.Unmarshal(msg, &std); err != nil {
		b.Fatal(err)
	}
	bin := abi.AppendHTTPRequest(nil, &std)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req HTTPRequest
			if err := json.Unmarshal(msg, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req HTTPRequest
			if err := decodeHTTPRequest(msg, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := abi.DecodeHTTPRequest(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeHTTPResponse(b *testing.B) {
	resp := &HTTPResponse{Status: 200, Header: Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"id":3,"title":"Note 3","summary":"This is seeded note number 3.","words":6,"reading_seconds":2}`)}
	buf := make([]byte, 0, 512)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = encodeHTTPResponse(buf[:0], resp)
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = abi.AppendHTTPResponse(buf[:0], resp)
		}
	})
}

// BenchmarkFlatJSON reads the notes actor's reply and writes the summary,
// as the showcase's summarizer does, with encoding/json and with the SDK's
// ScanJSONObject and JSONWriter.
func BenchmarkFlatJSON(b *testing.B) {
	reply := []byte(`{"note":{"id":3,"title":"Note 3","body":"This is seeded note number 3.","created_at":"2026-01-01T00:03:00Z"}}`)
	type note struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r struct{ Note *note }
			if err := json.Unmarshal(reply, &r); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(map[string]any{"id": r.Note.ID, "title": r.Note.Title, "summary": r.Note.Body}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			var n note
			err := ScanJSONObject(reply, func(key string, v JSONValue) error {
				if key != "note" {
					return nil
				}
				return v.Object(func(key string, v JSONValue) (err error) {
					switch key {
					case "id":
						n.ID, err = v.AsInt()
					case "title":
						n.Title, err = v.AsString()
					case "body":
						n.Body, err = v.AsString()
					}
					return err
				})
			})
			if err != nil {
				b.Fatal(err)
			}
			var w JSONWriter
			w.Reset(buf)
			w.Int("id", n.ID)
			w.Str("title", n.Title)
			w.Str("summary", n.Body)
			buf = w.Bytes()
		}
	})
}
