package wasm

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("a", maxLogLine+10)
	tests := []struct {
		name   string
		writes []string
		want   []string // messages, in order
		trunc  int      // records marked truncated
	}{
		{"one line per record", []string{"a\nb\n"}, []string{"a", "b"}, 0},
		{"lines split across writes", []string{"he", "llo\nwor", "ld\n"}, []string{"hello", "world"}, 0},
		{"unterminated line flushed", []string{"tail"}, []string{"tail"}, 0},
		{"long line cut and its rest dropped", []string{long + "\nnext\n"}, []string{long[:maxLogLine], "next"}, 1},
		{"long line over several writes", []string{long[:100], long[100:] + "\n"}, []string{long[:maxLogLine]}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newLineWriter(slog.New(slog.NewJSONHandler(&buf, nil)), slog.LevelInfo, "stdout")
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.Flush()
			got := rtMessages(t, buf.String())
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("records %q, want %q", got, tt.want)
			}
			if n := strings.Count(buf.String(), `"truncated":true`); n != tt.trunc {
				t.Errorf("%d truncated records, want %d", n, tt.trunc)
			}
		})
	}
}

// rtMessages returns the msg of each JSON log line.
func rtMessages(t *testing.T, out string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		i := strings.Index(line, `"msg":"`)
		j := strings.Index(line, `","stream"`)
		if i < 0 || j < i {
			t.Fatalf("unexpected record %s", line)
		}
		msgs = append(msgs, line[i+7:j])
	}
	return msgs
}

func TestLevelHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(&levelHandler{min: parseLogLevel("warn"), h: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})}).With("component", "c")
	log.Info("dropped")
	log.Warn("kept")
	if out := buf.String(); strings.Contains(out, "dropped") || !strings.Contains(out, "msg=kept component=c") {
		t.Errorf("output %q", out)
	}
	if parseLogLevel("nonsense") != slog.LevelInfo {
		t.Error("an unknown level is not info")
	}
}

func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("a\nb"), 1)
	f.Add([]byte(strings.Repeat("x", maxLogLine*2)+"\n"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		var buf bytes.Buffer
		w := newLineWriter(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelInfo, "stderr")
		if split <= 0 || split > len(data) {
			split = len(data)
		}
		w.Write(data[:split])
		w.Write(data[split:])
		w.Flush()
		if len(w.buf) != 0 {
			t.Fatal("Flush left a buffered line")
		}
		if n := strings.Count(buf.String(), "\n"); n > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d records from %d lines", n, bytes.Count(data, []byte("\n"))+1)
		}
	})
}
