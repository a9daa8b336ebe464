package logjson_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/logjson"
)

// accessRecord is shaped like the access log's record, the hot path this
// handler exists for.
func accessRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	attrs := accessAttrs(1234 * time.Nanosecond)
	r.AddAttrs(attrs[:]...)
	return r
}

func accessAttrs(d time.Duration) [10]slog.Attr {
	return [...]slog.Attr{
		slog.String("method", "GET"),
		slog.String("route", "/orders/:id"),
		slog.String("path", "/orders/42"),
		slog.Int("status", 200),
		slog.Int64("bytes_in", 0),
		slog.Int64("bytes_out", 11),
		slog.Duration("duration", d),
		slog.String("request_id", "01J9Z3K4M5N6P7Q8R9S0T1V2W3"),
		slog.String("remote_ip", "203.0.113.9"),
		slog.String("user_agent", "Mozilla/5.0 (X11; Linux x86_64) \"bench\""),
	}
}

func BenchmarkHandle(b *testing.B) {
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{
		{"logjson", logjson.New(io.Discard, nil)},
		{"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run(h.name+"/AccessRecord", func(b *testing.B) {
			r := accessRecord()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := h.h.Handle(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(h.name+"/WithAttrsAndGroup", func(b *testing.B) {
			hh := h.h.WithAttrs([]slog.Attr{slog.String("service", "orders"), slog.Int("pid", 1)}).WithGroup("req")
			r := accessRecord()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := hh.Handle(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(h.name+"/Parallel", func(b *testing.B) {
			r := accessRecord()
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := h.h.Handle(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAccessLogCallSite compares what the access log pays per request
// for its record: a slog.Record handed to Handle, or Handler.LogAttrs.
func BenchmarkAccessLogCallSite(b *testing.B) {
	h := logjson.New(io.Discard, nil)
	ctx := context.Background()
	b.Run("Record", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			attrs := accessAttrs(time.Duration(i))
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			r.AddAttrs(attrs[:]...)
			if err := h.Handle(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LogAttrs", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			attrs := accessAttrs(time.Duration(i))
			if err := h.LogAttrs(time.Now(), slog.LevelInfo, "request", attrs[:]...); err != nil {
				b.Fatal(err)
			}
		}
	})
}
