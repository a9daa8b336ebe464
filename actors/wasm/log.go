package wasm

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// maxLogLine bounds one record from a guest's stdout or stderr. A longer
// line is cut there, logged with truncated=true, and the rest of it up to
// the next newline is dropped, so a guest cannot make the host buffer
// without bound.
const maxLogLine = 4096

// lineWriter turns a guest's stdout or stderr into log records, one per
// line, at a fixed level. WASI fd_write calls it from the instance's
// goroutine; the mutex only guards against Flush from another.
type lineWriter struct {
	log      *slog.Logger
	level    slog.Level
	stream   string
	mu       sync.Mutex
	buf      []byte
	skipping bool // inside a truncated line: drop until newline
}

func newLineWriter(log *slog.Logger, level slog.Level, stream string) *lineWriter {
	return &lineWriter{log: log, level: level, stream: stream}
}

// Write logs every complete line in p and buffers the rest. It never fails,
// so the guest's write never sees an error for the host's logging.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		line := p
		if i >= 0 {
			line = p[:i]
		}
		if !w.skipping {
			room := maxLogLine - len(w.buf)
			if len(line) > room {
				w.buf = append(w.buf, line[:room]...)
				w.emit(true)
				w.skipping = true
			} else {
				w.buf = append(w.buf, line...)
			}
		}
		if i < 0 {
			break
		}
		if !w.skipping {
			w.emit(false)
		}
		w.skipping = false
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a final line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(false)
	}
}

func (w *lineWriter) emit(truncated bool) {
	if w.log.Enabled(context.Background(), w.level) {
		attrs := []any{"stream", w.stream}
		if truncated {
			attrs = append(attrs, "truncated", true)
		}
		w.log.Log(context.Background(), w.level, string(w.buf), attrs...)
	}
	w.buf = w.buf[:0]
}

// levelHandler drops records below a component's monitoring.log_level
// before they reach the service's handler, which has its own level.
type levelHandler struct {
	min slog.Level
	h   slog.Handler
}

func (l *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.min && l.h.Enabled(ctx, level)
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }

func (l *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{min: l.min, h: l.h.WithAttrs(attrs)}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{min: l.min, h: l.h.WithGroup(name)}
}

// parseLogLevel maps monitoring.log_level (validated by ParseManifest) to
// a slog level.
func parseLogLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
