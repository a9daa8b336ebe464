//go:build !race

// The race detector makes sync.Pool drop items at random, so the pooled
// buffers would count as allocations.

package logjson_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/logjson"
)

func TestNoAllocationPerRecord(t *testing.T) {
	h := logjson.New(io.Discard, nil).WithAttrs([]slog.Attr{slog.String("service", "orders")}).WithGroup("req").(*logjson.Handler)
	attrs := []slog.Attr{
		slog.String("s", "v \"quoted\" ü"),
		slog.Int("i", -1),
		slog.Uint64("u", 1),
		slog.Float64("f", 1.5),
		slog.Bool("b", true),
		slog.Duration("d", time.Second),
		slog.Time("t", fixedTime),
		slog.Group("g", slog.Int("n", 1)),
	}
	now := time.Now() // one second: a new second allocates its cached text
	r := slog.NewRecord(now, slog.LevelInfo, "m", 0)
	r.AddAttrs(attrs...)
	ctx := context.Background()
	tests := map[string]func(){
		"Handle":   func() { _ = h.Handle(ctx, r) },
		"LogAttrs": func() { _ = h.LogAttrs(now, slog.LevelInfo, "m", attrs...) },
	}
	for name, f := range tests {
		f() // warm the pools and the time cache
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per record, want 0", name, n)
		}
	}
}
