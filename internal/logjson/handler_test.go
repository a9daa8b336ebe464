package logjson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/troupehq/troupe/internal/logjson"
)

func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t,
		func(*testing.T) slog.Handler {
			buf.Reset()
			return logjson.New(&buf, nil)
		},
		func(t *testing.T) map[string]any {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("%v: %q", err, buf.Bytes())
			}
			return m
		})
}

type point struct {
	X, Y int
	Tag  string `json:"tag,omitempty"`
}

type userValuer struct{ id int }

func (u userValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", u.id), slog.String("role", "admin"))
}

type stringValuer string

func (s stringValuer) LogValue() slog.Value { return slog.StringValue(string(s)) }

type nestedValuer int

func (n nestedValuer) LogValue() slog.Value {
	if n == 0 {
		return slog.StringValue("bottom")
	}
	return slog.AnyValue(n - 1)
}

type emptyValuer struct{}

func (emptyValuer) LogValue() slog.Value { return slog.GroupValue() }

// jsonError is an error that marshals itself, so it is not logged as its
// message.
type jsonError struct{ Code int }

func (e jsonError) Error() string                { return fmt.Sprintf("code %d", e.Code) }
func (e jsonError) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, `{"code":%d}`, e.Code), nil }

type ptrError struct{ msg string }

func (e *ptrError) Error() string { return e.msg } // panics on nil, as careless code does

type badMarshaler struct{}

func (badMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot marshal") }

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("marshal exploded") }

var (
	fixedTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))
	controls  = func() string {
		var b strings.Builder
		for c := range 0x20 {
			b.WriteByte(byte(c))
		}
		return b.String()
	}()
	specials = []string{
		"", "plain", `"quoted" \back\slash /slash`, "<script>&amp;</script>", controls, "\x7f",
		"tab\tnew\nline\rret", "ünïcödé 日本語 🎉", "\u2028line\u2029para", "bad \xff\xfe utf8 \xe2\x82",
		"trunc \xf0\x9f\x8e", "\x00nul", strings.Repeat("long ", 500),
	}
)

func allKinds() []slog.Attr {
	var nilErr *ptrError
	return []slog.Attr{
		slog.String("s", "v"),
		slog.Int("i", -42),
		slog.Int64("max", math.MaxInt64),
		slog.Int64("min", math.MinInt64),
		slog.Uint64("umax", math.MaxUint64),
		slog.Float64("f0", 0),
		slog.Float64("fneg0", math.Copysign(0, -1)),
		slog.Float64("f", 1.5),
		slog.Float64("fsmall", 1e-7),
		slog.Float64("fedge", 1e-6),
		slog.Float64("fbig", 1e21),
		slog.Float64("fbelow", 1e20),
		slog.Float64("fmax", math.MaxFloat64),
		slog.Float64("ftiny", math.SmallestNonzeroFloat64),
		slog.Float64("fthird", 1.0/3),
		slog.Float64("fneg", -123456789.125),
		slog.Float64("nan", math.NaN()),
		slog.Float64("inf", math.Inf(1)),
		slog.Float64("ninf", math.Inf(-1)),
		slog.Bool("t", true),
		slog.Bool("f", false),
		slog.Duration("d", 1500*time.Millisecond),
		slog.Duration("dneg", -time.Nanosecond),
		slog.Time("tz", fixedTime),
		slog.Time("utc", fixedTime.UTC()),
		slog.Time("local", fixedTime.Local()),
		slog.Time("whole", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		slog.Time("zero", time.Time{}),
		slog.Any("struct", point{X: 1, Y: 2}),
		slog.Any("ptr", &point{X: 3, Tag: "<&>"}),
		slog.Any("map", map[string]any{"b": 1, "a": []int{1, 2}, "c": nil}),
		slog.Any("nil", nil),
		slog.Any("bytes", []byte("hi")),
		slog.Any("slice", []string{"x", "y"}),
		slog.Any("err", errors.New("boom")),
		slog.Any("wrapped", fmt.Errorf("ctx: %w", errors.New("inner"))),
		slog.Any("jsonerr", jsonError{Code: 7}),
		slog.Any("nilerr", nilErr),
		slog.Any("badmarshal", badMarshaler{}),
		slog.Any("panicmarshal", panicMarshaler{}),
		slog.Any("chan", make(chan int)),
		slog.Any("fn", func() {}),
		slog.Any("anyint", 5),
		slog.Any("anydur", time.Second),
		slog.Any("valuer", userValuer{id: 9}),
		slog.Any("strvaluer", stringValuer("resolved")),
		slog.Any("deepvaluer", nestedValuer(3)),
		slog.Any("runaway", nestedValuer(200)),
		slog.Any("source", &slog.Source{Function: "main.f", File: "f.go", Line: 3}),
		slog.Any("halfsource", &slog.Source{Line: 3}),
		slog.Any("emptysource", &slog.Source{}),
		slog.Any("nilsource", (*slog.Source)(nil)),
		slog.String("", "empty key kept"),
		slog.Int("", 0),
		{},
		slog.Any("", nil),
	}
}

func specialAttrs() []slog.Attr {
	var attrs []slog.Attr
	for i, s := range specials {
		attrs = append(attrs, slog.String(fmt.Sprintf("v%d", i), s), slog.String(s, "key"))
	}
	return attrs
}

type handlerCase struct {
	name  string
	opts  *slog.HandlerOptions
	with  func(slog.Handler) slog.Handler
	time  time.Time
	level slog.Level
	msg   string
	attrs []slog.Attr
}

func equivalenceCases() []handlerCase {
	group := func(name string, as ...slog.Attr) slog.Attr {
		return slog.Attr{Key: name, Value: slog.GroupValue(as...)}
	}
	withGroup := func(names ...string) func(slog.Handler) slog.Handler {
		return func(h slog.Handler) slog.Handler {
			for _, n := range names {
				h = h.WithGroup(n)
			}
			return h
		}
	}
	cases := []handlerCase{
		{name: "message only", msg: "hello"},
		{name: "zero time", time: time.Time{}, msg: "no time", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "UTC time", time: fixedTime.UTC(), msg: "m"},
		{name: "local time", time: fixedTime.Local(), msg: "m"},
		{name: "time with monotonic reading", time: time.Now(), msg: "m"},
		{name: "levels debug", opts: &slog.HandlerOptions{Level: slog.LevelDebug}, level: slog.LevelDebug, msg: "m"},
		{name: "level warn", level: slog.LevelWarn, msg: "m"},
		{name: "level error+3", level: slog.LevelError + 3, msg: "m"},
		{name: "level info+1", level: slog.LevelInfo + 1, msg: "m"},
		{name: "all kinds", msg: "kinds", attrs: allKinds()},
		{name: "special strings", msg: strings.Join(specials, "|"), attrs: specialAttrs()},
		{name: "nested groups", msg: "m", attrs: []slog.Attr{
			slog.Int("a", 1),
			group("g", slog.Int("b", 2), group("h", slog.String("c", "x"), group("i", slog.Bool("d", true))), slog.Int("e", 3)),
			slog.Int("f", 4),
		}},
		{name: "inline group", msg: "m", attrs: []slog.Attr{group("", slog.Int("a", 1), slog.Int("b", 2)), slog.Int("c", 3)}},
		{name: "inline group first in named group", msg: "m", attrs: []slog.Attr{group("g", group("", slog.Int("a", 1)), slog.Int("b", 2))}},
		{name: "empty groups", msg: "m", attrs: []slog.Attr{slog.Int("a", 1), group("e"), group("f", group("")), slog.Int("b", 2)}},
		{name: "group of empty attrs last", msg: "m", attrs: []slog.Attr{slog.Int("a", 1), group("g", slog.Attr{})}},
		{name: "only empty attrs", msg: "m", attrs: []slog.Attr{{}, group("g", slog.Attr{})}},
		{name: "valuer resolving to empty group last", msg: "m", attrs: []slog.Attr{slog.Int("a", 1), slog.Any("v", emptyValuer{})}},
		{name: "special group names", msg: "m", attrs: []slog.Attr{group("\"<g>\"\n\xff", slog.Int("a", 1))}},
		{name: "WithAttrs", with: func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.String("svc", "orders"), slog.Int("pid", 7)})
		}, msg: "m", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "WithAttrs twice no record attrs", with: func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.String("x", "1")}).WithAttrs([]slog.Attr{slog.String("y", "2")})
		}, msg: "m"},
		{name: "WithAttrs of all kinds", with: func(h slog.Handler) slog.Handler { return h.WithAttrs(allKinds()) }, msg: "m"},
		{name: "WithAttrs empty", with: func(h slog.Handler) slog.Handler { return h.WithAttrs(nil) }, msg: "m", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "WithAttrs only empty groups", with: func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{group("e")})
		}, msg: "m", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "WithAttrs only dropped attrs", with: func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{{}, group("e", slog.Attr{})})
		}, msg: "m", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "WithAttrs ending in empty group", with: func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{group("e"), group("", slog.Attr{})})
		}, msg: "m", attrs: []slog.Attr{slog.Int("a", 1)}},
		{name: "WithGroup with record attrs", with: withGroup("g", "h"), msg: "m", attrs: []slog.Attr{slog.Int("a", 1), slog.Int("b", 2)}},
		{name: "WithGroup without record attrs", with: withGroup("g", "h"), msg: "m"},
		{name: "WithGroup with only empty record attrs", with: withGroup("g"), msg: "m", attrs: []slog.Attr{{}, group("x", slog.Attr{})}},
		{name: "WithGroup WithAttrs WithGroup", with: func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.Int("top", 0)}).WithGroup("g").WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("h")
		}, msg: "m", attrs: []slog.Attr{slog.Int("b", 2)}},
		{name: "WithGroup WithAttrs WithGroup no record attrs", with: func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("h")
		}, msg: "m"},
		{name: "WithGroup WithAttrs group", with: func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{group("inner", slog.Int("a", 1))})
		}, msg: "m", attrs: []slog.Attr{group("r", slog.Int("b", 2))}},
	}
	for i := range cases {
		if cases[i].time.IsZero() && !strings.Contains(cases[i].name, "zero time") {
			cases[i].time = fixedTime
		}
	}
	return cases
}

// handle logs c through h, with c's derivations applied, as a slog.Record
// or, with direct, through Handler.LogAttrs.
func handle(t *testing.T, h slog.Handler, c handlerCase, direct bool) {
	t.Helper()
	if c.with != nil {
		h = c.with(h)
	}
	if !h.Enabled(context.Background(), c.level) {
		t.Fatalf("level %v disabled", c.level)
	}
	if direct {
		if err := h.(*logjson.Handler).LogAttrs(c.time, c.level, c.msg, c.attrs...); err != nil {
			t.Fatal(err)
		}
		return
	}
	r := slog.NewRecord(c.time, c.level, c.msg, 0)
	r.AddAttrs(c.attrs...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func TestMatchesSlogJSONHandler(t *testing.T) {
	cases := append(equivalenceCases(), handlerCase{
		name: "WithGroup with only an empty group", msg: "m", time: fixedTime,
		with:  func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
		attrs: []slog.Attr{slog.Group("e")},
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want bytes.Buffer
			handle(t, slog.NewJSONHandler(&want, c.opts), c, false)
			for _, direct := range []bool{false, true} {
				var got bytes.Buffer
				handle(t, logjson.New(&got, c.opts), c, direct)
				if got.String() != want.String() {
					t.Errorf("output (LogAttrs: %v) differs from slog.JSONHandler\n got: %s\nwant: %s", direct, got.Bytes(), want.Bytes())
				}
				var m map[string]any
				if err := json.Unmarshal(got.Bytes(), &m); err != nil {
					t.Errorf("invalid JSON: %v\n%s", err, got.Bytes())
				}
			}
		})
	}
}

// TestDeviations pins the cases where slog.JSONHandler writes invalid JSON or
// breaks the slog.Handler contract, and this handler does not.
func TestDeviations(t *testing.T) {
	ts := `"time":"2025-03-14T15:09:26.535897932+01:00","level":"INFO","msg":"m"`
	tests := []struct {
		name string
		c    handlerCase
		want string
	}{
		{
			name: "dropped group keeps the comma",
			c: handlerCase{attrs: []slog.Attr{
				slog.Int("a", 1), slog.Group("g", slog.Attr{}), slog.Int("b", 2),
			}},
			want: `{` + ts + `,"a":1,"b":2}`,
		},
		{
			name: "dropped group in WithAttrs keeps the comma",
			c: handlerCase{with: func(h slog.Handler) slog.Handler {
				return h.WithAttrs([]slog.Attr{slog.Int("a", 1), slog.Group("g", slog.Attr{}), slog.Int("b", 2)})
			}},
			want: `{` + ts + `,"a":1,"b":2}`,
		},
		{
			name: "year out of range",
			c:    handlerCase{attrs: []slog.Attr{slog.Time("t", time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)), slog.Int("b", 2)}},
			want: `{` + ts + `,"t":"!ERROR:time.Time year outside of range [0,9999]","b":2}`,
		},
		{
			name: "WithGroup left empty by a valuer",
			c: handlerCase{
				with:  func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
				attrs: []slog.Attr{slog.Any("v", emptyValuer{})},
			},
			want: `{` + ts + `}`,
		},
		{
			name: "WithGroup left empty by WithAttrs",
			c: handlerCase{with: func(h slog.Handler) slog.Handler {
				return h.WithGroup("g").WithAttrs([]slog.Attr{slog.Group("e"), slog.Group("", slog.Attr{})})
			}},
			want: `{` + ts + `}`,
		},
		{
			name: "WithGroup of empty name",
			c: handlerCase{
				with:  func(h slog.Handler) slog.Handler { return h.WithGroup("") },
				attrs: []slog.Attr{slog.Int("a", 1)},
			},
			want: `{` + ts + `,"a":1}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.time, tt.c.msg = fixedTime, "m"
			for _, direct := range []bool{false, true} {
				var got bytes.Buffer
				handle(t, logjson.New(&got, nil), tt.c, direct)
				if got.String() != tt.want+"\n" {
					t.Errorf("LogAttrs %v: got  %s\nwant %s", direct, got.Bytes(), tt.want)
				}
				if !json.Valid(got.Bytes()) {
					t.Errorf("invalid JSON: %s", got.Bytes())
				}
			}
		})
	}
}

func TestLevel(t *testing.T) {
	var lv slog.LevelVar
	h := logjson.New(&bytes.Buffer{}, &slog.HandlerOptions{Level: &lv})
	ctx := context.Background()
	tests := []struct {
		min, level slog.Level
		want       bool
	}{
		{slog.LevelInfo, slog.LevelDebug, false},
		{slog.LevelInfo, slog.LevelInfo, true},
		{slog.LevelError, slog.LevelWarn, false},
		{slog.LevelDebug, slog.LevelDebug, true},
	}
	for _, tt := range tests {
		lv.Set(tt.min)
		if got := h.Enabled(ctx, tt.level); got != tt.want {
			t.Errorf("min %v: Enabled(%v) = %v, want %v", tt.min, tt.level, got, tt.want)
		}
	}
	if logjson.New(&bytes.Buffer{}, nil).Enabled(ctx, slog.LevelDebug) {
		t.Error("default level enables DEBUG, want INFO minimum")
	}
}

func TestWriteErrorReturned(t *testing.T) {
	errDisk := errors.New("disk full")
	h := logjson.New(failingWriter{errDisk}, nil)
	if err := h.Handle(context.Background(), slog.NewRecord(fixedTime, slog.LevelInfo, "m", 0)); !errors.Is(err, errDisk) {
		t.Errorf("Handle error = %v, want %v", err, errDisk)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// lineWriter fails the test unless every Write is one whole line, and is not
// safe for concurrent use, so -race catches writes the handler does not
// serialise.
type lineWriter struct {
	t     *testing.T
	lines []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if n := bytes.IndexByte(p, '\n'); n != len(p)-1 {
		w.t.Errorf("Write of a partial or multiple lines: %q", p)
	}
	w.lines = append(w.lines, string(p))
	return len(p), nil
}

func TestConcurrentDerivedHandlersShareTheLock(t *testing.T) {
	w := &lineWriter{t: t}
	root := logjson.New(w, nil)
	handlers := []slog.Handler{
		root,
		root.WithAttrs([]slog.Attr{slog.String("svc", "a")}),
		root.WithGroup("g"),
		root.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("n", 1)}),
	}
	const perGoroutine = 200
	var wg sync.WaitGroup
	for i, h := range handlers {
		for j := range 4 {
			wg.Go(func() {
				logger := slog.New(h).With("worker", j)
				for k := range perGoroutine {
					logger.Info("work", "handler", i, "k", k, "payload", strings.Repeat("x", k))
				}
			})
		}
	}
	wg.Wait()
	if want := len(handlers) * 4 * perGoroutine; len(w.lines) != want {
		t.Fatalf("got %d lines, want %d", len(w.lines), want)
	}
	for _, line := range w.lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] != "work" {
			t.Fatalf("bad line %q: %v", line, err)
		}
	}
}

func TestLargeRecordNotTruncated(t *testing.T) {
	var buf bytes.Buffer
	big := strings.Repeat("y", 64<<10) // beyond the pooled buffer limit
	logger := slog.New(logjson.New(&buf, nil))
	logger.Info("big", "v", big)
	logger.Info("small", "v", "z")
	dec := json.NewDecoder(&buf)
	for _, want := range []string{big, "z"} {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["v"] != want {
			t.Errorf("v has %d bytes, want %d", len(m["v"].(string)), len(want))
		}
	}
}

// TestEveryByteAtEveryOffset covers the word-at-a-time scan for bytes that
// need escaping: each byte value at each position of strings of each length
// up to beyond two words.
func TestEveryByteAtEveryOffset(t *testing.T) {
	var got, want bytes.Buffer
	h, ref := logjson.New(&got, nil), slog.NewJSONHandler(&want, nil)
	for b := range 256 {
		for n := 1; n <= 20; n++ {
			for off := range n {
				s := []byte(strings.Repeat("a", n))
				s[off] = byte(b)
				r := slog.NewRecord(time.Time{}, slog.LevelInfo, string(s), 0)
				got.Reset()
				want.Reset()
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if err := ref.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Fatalf("byte %#x at %d of %d: got %s, want %s", b, off, n, got.Bytes(), want.Bytes())
				}
			}
		}
	}
}
