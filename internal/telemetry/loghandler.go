package telemetry

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// Keys of the correlation attributes NewLogHandler adds, and the value that
// replaces a redacted attribute's.
const (
	LogKeyTraceID   = "trace_id"
	LogKeySpanID    = "span_id"
	LogKeyRequestID = "request_id"
	Redacted        = "[REDACTED]"
)

// LogHandler is the slog.Handler NewLogHandler returns: the service's
// logger's. It is exported for the access log, which calls LogAttrs on it
// directly (through an interface, the attributes would escape to the heap).
//
// Correlation attributes always go at the top level of a record, even from
// a logger that opened groups with WithGroup: a log pipeline looks for
// trace_id in one place, not under whatever group a package chose. slog
// handlers can only add top-level attributes before the first group, so the
// handler remembers the state before its first group (base) and the calls
// made since (ops); a record that needs correlation from a grouped logger
// replays ops onto base.WithAttrs(correlation). That costs a handler rebuild
// per such record, which only grouped loggers inside a traced request pay.
type LogHandler struct {
	base   slog.Handler // the inner handler before the first WithGroup
	next   slog.Handler // base with every WithGroup/WithAttrs applied
	ops    []handlerOp  // WithGroup/WithAttrs calls since the first group
	redact []string
	// hasRequestID records a top-level request_id added with WithAttrs,
	// which the context's must not duplicate.
	hasRequestID bool
}

// handlerOp is one WithGroup (group != "") or WithAttrs call.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

// NewLogHandler wraps h so every record logged with a context carries that
// context's trace_id and span_id (when it holds a valid span context) and
// request_id (from reqinfo, unless the record or logger already has one),
// all at the top level whatever groups the logger opened. The value of any
// attribute whose key matches one of redact, compared case-insensitively, is
// replaced with "[REDACTED]" at any group depth, including attributes added
// with Logger.With.
//
// A record with neither span nor request ID and no attribute to redact costs
// two context lookups over h alone.
func NewLogHandler(h slog.Handler, redact []string) *LogHandler {
	return &LogHandler{base: h, next: h, redact: slices.Clone(redact)}
}

func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	attrs = h.redactAttrs(attrs)
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if len(h.ops) == 0 {
		c.base = c.next
		c.hasRequestID = h.hasRequestID || slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == LogKeyRequestID })
	} else {
		c.ops = append(slices.Clip(h.ops), handlerOp{attrs: attrs})
	}
	return &c
}

func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.ops = append(slices.Clip(h.ops), handlerOp{group: name})
	return &c
}

func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.redact) > 0 && h.recordNeedsRedaction(r) {
		r = h.redactRecord(r)
	}
	sc := trace.SpanContextFromContext(ctx)
	var id string
	if !h.hasRequestID {
		if id = reqinfo.RequestID(ctx); id != "" && recordHas(r, LogKeyRequestID) {
			id = ""
		}
	}
	if !sc.IsValid() && id == "" {
		return h.next.Handle(ctx, r)
	}
	if len(h.ops) > 0 {
		return h.handleGrouped(ctx, r, correlation(sc, id))
	}
	// Clone so appending cannot write into attributes shared with a copy
	// of r that another handler holds. The attributes are added one call at
	// a time so that no slice of them escapes to the heap.
	r = r.Clone()
	if sc.IsValid() {
		r.AddAttrs(slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	if id != "" {
		r.AddAttrs(slog.String(LogKeyRequestID, id))
	}
	return h.next.Handle(ctx, r)
}

// LogAttrs writes what Handle writes for a record of t, level, msg and
// attrs logged with ctx. When the record needs nothing added or masked and
// the inner handler is logjson's, it reads attrs in place: the access log
// calls it once per request, and building a slog.Record of its ~12
// attributes allocated and copied them (~0.4 µs a request under load).
// Callers check Enabled first, as Logger does.
func (h *LogHandler) LogAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs ...slog.Attr) error {
	if fast, ok := h.next.(*logjson.Handler); ok && !h.mustRewrite(ctx, attrs) {
		return fast.LogAttrs(t, level, msg, attrs...)
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return h.Handle(ctx, r)
}

// mustRewrite reports whether Handle would mask or add attributes to a
// record of attrs logged with ctx.
func (h *LogHandler) mustRewrite(ctx context.Context, attrs []slog.Attr) bool {
	if len(h.redact) > 0 && slices.ContainsFunc(attrs, h.needsRedaction) {
		return true
	}
	if trace.SpanContextFromContext(ctx).IsValid() {
		return true
	}
	if h.hasRequestID || reqinfo.RequestID(ctx) == "" {
		return false
	}
	return !slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == LogKeyRequestID })
}

// handleGrouped handles r for a logger with open groups: corr must go above
// them, so the groups and attributes since the first one are replayed onto
// base with corr added first.
func (h *LogHandler) handleGrouped(ctx context.Context, r slog.Record, corr []slog.Attr) error {
	inner := h.base.WithAttrs(corr)
	for _, op := range h.ops {
		if op.group != "" {
			inner = inner.WithGroup(op.group)
		} else {
			inner = inner.WithAttrs(op.attrs)
		}
	}
	return inner.Handle(ctx, r)
}

// correlation returns the attributes for a valid sc and a non-empty id.
func correlation(sc trace.SpanContext, id string) []slog.Attr {
	corr := make([]slog.Attr, 0, 3)
	if sc.IsValid() {
		corr = append(corr, slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	if id != "" {
		corr = append(corr, slog.String(LogKeyRequestID, id))
	}
	return corr
}

// recordHas reports whether r has a top-level attribute named key.
func recordHas(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

func (h *LogHandler) recordNeedsRedaction(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = h.needsRedaction(a)
		return !found
	})
	return found
}

// redactRecord returns a copy of r with its attributes redacted.
func (h *LogHandler) redactRecord(r slog.Record) slog.Record {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.redactAttr(a))
		return true
	})
	return out
}

func (h *LogHandler) isRedacted(key string) bool {
	for _, k := range h.redact {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// needsRedaction reports whether a, or an attribute nested in it, has a
// redacted key.
func (h *LogHandler) needsRedaction(a slog.Attr) bool {
	if h.isRedacted(a.Key) {
		return true
	}
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	if v.Kind() != slog.KindGroup {
		return false
	}
	return slices.ContainsFunc(v.Group(), h.needsRedaction)
}

func (h *LogHandler) redactAttrs(attrs []slog.Attr) []slog.Attr {
	if len(h.redact) == 0 || !slices.ContainsFunc(attrs, h.needsRedaction) {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = h.redactAttr(a)
	}
	return out
}

// redactAttr returns a with its value, or the values of nested attributes,
// replaced where the key is redacted. A LogValuer is resolved first, since
// it may expand into a group holding a secret.
func (h *LogHandler) redactAttr(a slog.Attr) slog.Attr {
	if h.isRedacted(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if !h.needsRedaction(a) {
		return a
	}
	v := a.Value.Resolve()
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(h.redactAttrs(v.Group())...)}
}
