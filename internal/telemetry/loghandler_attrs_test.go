package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// TestLogAttrsWritesWhatHandleWrites checks LogAttrs, the access log's
// path, against Handle byte for byte, in the cases where Handle adds
// correlation or masks a value and where it has nothing to do.
func TestLogAttrsWritesWhatHandleWrites(t *testing.T) {
	withID := reqinfo.NewContext(context.Background(), &reqinfo.Info{ID: "req-1"})
	tests := []struct {
		name   string
		ctx    context.Context
		redact []string
		group  bool
		attrs  []slog.Attr
	}{
		{"nothing to add", context.Background(), nil, false, []slog.Attr{slog.String("path", "/a"), slog.Int("status", 200)}},
		{"request ID already logged", withID, nil, false, []slog.Attr{slog.String("request_id", "req-1"), slog.Int("status", 200)}},
		{"request ID from the context", withID, nil, false, []slog.Attr{slog.Int("status", 200)}},
		{"traced", tracedContext(), nil, false, []slog.Attr{slog.String("request_id", "req-1")}},
		{"redacted", context.Background(), []string{"Token"}, false, []slog.Attr{slog.String("token", "secret"), slog.Int("n", 1)}},
		{"redaction configured, none needed", context.Background(), []string{"token"}, false, []slog.Attr{slog.Int("n", 1)}},
		{"grouped logger", withID, nil, true, []slog.Attr{slog.Int("status", 200)}},
	}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var viaHandle, viaAttrs bytes.Buffer
			handler := func(buf *bytes.Buffer) *LogHandler {
				h := NewLogHandler(logjson.New(buf, nil), tt.redact)
				if tt.group {
					return h.WithGroup("g").(*LogHandler)
				}
				return h
			}
			r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
			r.AddAttrs(tt.attrs...)
			if err := handler(&viaHandle).Handle(tt.ctx, r); err != nil {
				t.Fatal(err)
			}
			h := handler(&viaAttrs)
			if err := h.LogAttrs(tt.ctx, now, slog.LevelInfo, "request", tt.attrs...); err != nil {
				t.Fatal(err)
			}
			if viaAttrs.String() != viaHandle.String() {
				t.Errorf("LogAttrs wrote\n%s\nHandle wrote\n%s", viaAttrs.String(), viaHandle.String())
			}
		})
	}
}

// TestLogAttrsDoesNotAllocate pins why LogAttrs exists: an access-log
// record of a dozen attributes that needs nothing added costs no
// allocation (a slog.Record of them does).
func TestLogAttrsDoesNotAllocate(t *testing.T) {
	h := NewLogHandler(logjson.New(discard{}, nil), []string{"password"})
	ctx := reqinfo.NewContext(context.Background(), &reqinfo.Info{ID: "req-1"})
	attrs := []slog.Attr{
		slog.String("method", "GET"), slog.String("route", "/a"), slog.String("path", "/a"),
		slog.Int("status", 200), slog.Int64("bytes_in", 0), slog.Int64("bytes_out", 27),
		slog.Duration("duration", time.Millisecond), slog.String("request_id", "req-1"),
		slog.String("remote_ip", "127.0.0.1"), slog.String("user_agent", "test"),
	}
	log := func() { _ = h.LogAttrs(ctx, time.Now(), slog.LevelInfo, "request", attrs...) }
	log()
	if n := testing.AllocsPerRun(100, log); n != 0 {
		t.Errorf("LogAttrs allocates %v times, want 0", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
