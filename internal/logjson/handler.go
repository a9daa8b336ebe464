package logjson

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Handler is a [slog.Handler] writing one JSON object per record, in the
// format of [slog.JSONHandler]. Create one with New. It is safe for
// concurrent use; handlers derived with WithAttrs and WithGroup share their
// root's writer lock, so lines to one writer never interleave.
type Handler struct {
	w     io.Writer
	mu    *sync.Mutex // shared by every handler derived from the same root
	level slog.Leveler

	// attrs holds the attributes from WithAttrs, already encoded, each
	// preceded by its comma; open counts the groups it leaves open. It never
	// ends in an open group: a group is opened only along with a member.
	attrs []byte
	open  int
	// groups holds the openings of the WithGroup groups named since the last
	// WithAttrs, e.g. `"g":{"h":{`. They are written only when a record has
	// attributes, so a group never appears empty.
	groups  []byte
	nGroups int
}

// New returns a Handler writing to w. Of opts (which may be nil) only Level
// is honoured: AddSource and ReplaceAttr are ignored, because Troupe never
// logs the caller and never rewrites attributes, and supporting them is what
// makes slog.JSONHandler slow. A nil Level means slog.LevelInfo.
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	h := &Handler{w: w, mu: new(sync.Mutex), level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

// Enabled reports whether level is at least the handler's minimum level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// WithAttrs returns a handler that writes attrs, encoded once here, in every
// record, inside the groups named so far.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	e := newEncoder()
	defer e.free()
	e.buf = append(e.buf, h.attrs...)
	e.comma = true // after "msg" or h.attrs, which never ends in an open group
	if len(h.groups) > 0 {
		e.writeComma()
		e.buf = append(e.buf, h.groups...)
		e.comma = false
	}
	if !e.appendAttrs(attrs) {
		return h
	}
	h2 := h.clone()
	h2.attrs = slices.Clone(e.buf)
	h2.open += h2.nGroups
	h2.groups, h2.nGroups = nil, 0
	return h2
}

// WithGroup returns a handler that nests the attributes added after it,
// whether by WithAttrs or in a record, in a group called name. An empty name
// returns h, as the slog.Handler contract asks.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.groups = appendString(slices.Clip(h2.groups), name)
	h2.groups = append(h2.groups, ':', '{')
	h2.nGroups++
	return h2
}

// Handle writes r as one line with a single Write call. The keys "time"
// (omitted for a zero time), "level" and "msg" come first, then the
// WithAttrs attributes, then r's.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	e := h.begin(r.Time, r.Level, r.Message)
	defer e.free()
	written := false
	if r.NumAttrs() > 0 {
		h.openGroups(&e)
		r.Attrs(func(a slog.Attr) bool {
			written = e.appendAttr(&a) || written
			return true
		})
	}
	return h.end(&e, written)
}

// LogAttrs writes the record that Handle would write for a slog.Record of
// t, level, msg and attrs (time.Now, for a Logger). It is for the hottest
// call sites, such as the access log: building a Record copies the
// attributes and, beyond five, allocates; this reads attrs in place. Callers
// check Enabled first, as Logger does.
func (h *Handler) LogAttrs(t time.Time, level slog.Level, msg string, attrs ...slog.Attr) error {
	e := h.begin(t, level, msg)
	defer e.free()
	written := false
	if len(attrs) > 0 {
		h.openGroups(&e)
		written = e.appendAttrs(attrs)
	}
	return h.end(&e, written)
}

// begin starts a line with the built-in keys and the WithAttrs attributes,
// and marks where the record's own attributes start.
func (h *Handler) begin(t time.Time, level slog.Level, msg string) encoder {
	e := newEncoder()
	e.buf = append(e.buf, '{')
	if !t.IsZero() {
		e.buf = append(e.buf, `"time":`...)
		e.appendTime(t, true)
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, `"level":`...)
	e.buf = appendString(e.buf, level.String())
	e.buf = append(e.buf, `,"msg":`...)
	e.buf = appendString(e.buf, msg)
	e.buf = append(e.buf, h.attrs...)
	e.comma = true
	e.mark, e.markComma = len(e.buf), e.comma
	return e
}

// openGroups opens the WithGroup groups, before a record's attributes.
func (h *Handler) openGroups(e *encoder) {
	if len(h.groups) > 0 {
		e.writeComma()
		e.buf = append(e.buf, h.groups...)
		e.comma = false
	}
}

// end closes the groups and the object and writes the line. Unless the
// record's attributes were written, the groups opened for them are removed,
// so no group is left empty.
func (h *Handler) end(e *encoder, written bool) error {
	open := h.open
	if written {
		open += h.nGroups
	} else {
		e.buf, e.comma = e.buf[:e.mark], e.markComma
	}
	for range open + 1 {
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '\n')

	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(e.buf)
	return err
}

func (h *Handler) clone() *Handler {
	return &Handler{
		w:       h.w,
		mu:      h.mu,
		level:   h.level,
		attrs:   slices.Clip(h.attrs),
		open:    h.open,
		groups:  slices.Clip(h.groups),
		nGroups: h.nGroups,
	}
}
