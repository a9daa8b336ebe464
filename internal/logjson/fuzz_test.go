package logjson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/troupehq/troupe/internal/logjson"
)

// FuzzStrings logs arbitrary message, key and value strings, which reach the
// access log from clients (paths, user agents, header values). The output
// must be one valid JSON line that decodes to the same strings (invalid UTF-8
// replaced rune by rune) and must equal slog.JSONHandler's.
func FuzzStrings(f *testing.F) {
	for _, s := range specials {
		f.Add(s, "k", s)
		f.Add("m", s, "v")
	}
	f.Add("msg", "time", "level")
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		rec := slog.NewRecord(fixedTime, slog.LevelInfo, msg, 0)
		rec.AddAttrs(slog.Group("g", slog.String(key, value)))
		var got, want bytes.Buffer
		for _, h := range []slog.Handler{logjson.New(&got, nil), slog.NewJSONHandler(&want, nil)} {
			if err := h.WithGroup("w").Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("output differs from slog.JSONHandler\n got: %q\nwant: %q", got.Bytes(), want.Bytes())
		}
		if bytes.IndexByte(got.Bytes(), '\n') != got.Len()-1 {
			t.Fatalf("not exactly one line: %q", got.Bytes())
		}
		var m struct {
			Msg string
			W   struct {
				G map[string]string
			}
		}
		if err := json.Unmarshal(got.Bytes(), &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", got.Bytes(), err)
		}
		if m.Msg != valid(msg) {
			t.Errorf("msg decodes to %q, want %q", m.Msg, valid(msg))
		}
		if v, ok := m.W.G[valid(key)]; !ok || v != valid(value) {
			t.Errorf("attrs decode to %q, want {%q: %q}", m.W.G, valid(key), valid(value))
		}
	})
}

// valid replaces each byte of invalid UTF-8 with U+FFFD, as JSON encoding does.
func valid(s string) string { return string([]rune(s)) }
