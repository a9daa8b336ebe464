package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/reqinfo"
)

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func tracedContext() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	return reqinfo.NewContext(ctx, &reqinfo.Info{ID: "req-1"})
}

// logOne logs through NewLogHandler over a JSON handler and decodes the line.
func logOne(t *testing.T, ctx context.Context, redact []string, log func(ctx context.Context, l *slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	l := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil), redact))
	log(ctx, l)
	var out map[string]any
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("decode %q: %v", buf.String(), err)
	}
	delete(out, "time")
	return out
}

func TestLogHandlerCorrelation(t *testing.T) {
	traced := tracedContext()
	tests := []struct {
		name string
		ctx  context.Context
		log  func(context.Context, *slog.Logger)
		want string // JSON of the record without time
	}{
		{
			name: "no span, no request",
			ctx:  context.Background(),
			log:  func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "k", 1) },
			want: `{"level":"INFO","msg":"m","k":1}`,
		},
		{
			name: "request only",
			ctx:  reqinfo.NewContext(context.Background(), &reqinfo.Info{ID: "req-9"}),
			log:  func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m") },
			want: `{"level":"INFO","msg":"m","request_id":"req-9"}`,
		},
		{
			name: "span and request",
			ctx:  traced,
			log:  func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "k", 1) },
			want: `{"level":"INFO","msg":"m","k":1,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","request_id":"req-1"}`,
		},
		{
			name: "record carries its own request_id",
			ctx:  traced,
			log:  func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "request_id", "mine") },
			want: `{"level":"INFO","msg":"m","request_id":"mine","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`,
		},
		{
			name: "logger carries its own request_id",
			ctx:  traced,
			log:  func(ctx context.Context, l *slog.Logger) { l.With("request_id", "mine").InfoContext(ctx, "m") },
			want: `{"level":"INFO","msg":"m","request_id":"mine","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`,
		},
		{
			name: "correlation stays top level under groups",
			ctx:  traced,
			log: func(ctx context.Context, l *slog.Logger) {
				l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").InfoContext(ctx, "m", "c", 3)
			},
			want: `{"level":"INFO","msg":"m","a":1,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","request_id":"req-1","g":{"b":2,"h":{"c":3}}}`,
		},
		{
			name: "grouped logger without span",
			ctx:  context.Background(),
			log:  func(ctx context.Context, l *slog.Logger) { l.WithGroup("g").InfoContext(ctx, "m", "c", 3) },
			want: `{"level":"INFO","msg":"m","g":{"c":3}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logOne(t, tt.ctx, nil, tt.log)
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "ann"), slog.String("Password", "hunter2"))
}

func TestLogHandlerRedaction(t *testing.T) {
	redact := []string{"password", "AUTHORIZATION"}
	tests := []struct {
		name string
		log  func(context.Context, *slog.Logger)
	}{
		{"record attr", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "Password", "hunter2") }},
		{"nested group", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", slog.Group("req", slog.Group("headers", slog.String("Authorization", "hunter2"))))
		}},
		{"logger attrs", func(ctx context.Context, l *slog.Logger) { l.With("password", "hunter2").InfoContext(ctx, "m") }},
		{"logger attrs in group", func(ctx context.Context, l *slog.Logger) {
			l.WithGroup("g").With("password", "hunter2").InfoContext(ctx, "m")
		}},
		{"log valuer", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "login", secretValuer{}) }},
	}
	for _, tt := range tests {
		for _, ctx := range []context.Context{context.Background(), tracedContext()} {
			t.Run(tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				l := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil), redact))
				tt.log(ctx, l)
				out := buf.String()
				if strings.Contains(out, "hunter2") {
					t.Errorf("secret leaked: %s", out)
				}
				if !strings.Contains(out, Redacted) {
					t.Errorf("no %s marker: %s", Redacted, out)
				}
			})
		}
	}
	// Keys not listed are left alone.
	got := logOne(t, context.Background(), redact, func(ctx context.Context, l *slog.Logger) {
		l.InfoContext(ctx, "m", "user", "ann", slog.Group("g", "password_hint", "pet"))
	})
	if got["user"] != "ann" || got["g"].(map[string]any)["password_hint"] != "pet" {
		t.Errorf("unlisted keys changed: %v", got)
	}
}

func TestLogHandlerEnabledAndEmptyOps(t *testing.T) {
	var buf bytes.Buffer
	h := NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), nil)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled does not follow the wrapped handler's level")
	}
	if h.WithGroup("") != h || h.WithAttrs(nil) != h {
		t.Error("empty WithGroup/WithAttrs did not return the handler itself")
	}
}

// TestLogHandlerNoSharedMutation logs one record through two derived
// loggers concurrently; the race detector flags shared writes.
func TestLogHandlerNoSharedMutation(t *testing.T) {
	base := slog.New(NewLogHandler(slog.NewJSONHandler(io.Discard, nil), []string{"secret"}))
	l1, l2 := base.With("a", 1), base.WithGroup("g").With("b", 2)
	ctx := tracedContext()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			l1.InfoContext(ctx, "m", "secret", "x", "k", 1)
		}
	}()
	for range 100 {
		l2.InfoContext(ctx, "m", "secret", "x", "k", 1)
	}
	<-done
}

func BenchmarkLogHandler(b *testing.B) {
	for _, bc := range []struct {
		name    string
		wrapped bool
		ctx     context.Context
	}{
		{"plain", false, context.Background()},
		{"wrapped/no-span", true, context.Background()},
		{"wrapped/span+request", true, tracedContext()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var h slog.Handler = slog.NewJSONHandler(io.Discard, nil)
			if bc.wrapped {
				h = NewLogHandler(h, []string{"password"})
			}
			l := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				l.InfoContext(bc.ctx, "order created", "order", 42, "user", "ann")
			}
		})
	}
}
