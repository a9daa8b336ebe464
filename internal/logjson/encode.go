package logjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// maxPooledSize bounds the buffers kept for reuse, so one huge record does
// not pin its memory for the life of the process.
const maxPooledSize = 16 << 10

// encoder appends attributes to buf as JSON object members. It lives on
// the stack of the call encoding a record: appending to a heap object's
// slice costs a GC write barrier on every append while a collection runs,
// which on a busy server is often.
type encoder struct {
	buf   []byte
	comma bool // whether the next member needs a comma before it

	// mark and markComma are buf's length and comma where a record's own
	// attributes start, to undo the groups opened for them.
	mark      int
	markComma bool

	pooled *[]byte // where buf came from, to return it
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

func newEncoder() encoder {
	p := bufPool.Get().(*[]byte)
	return encoder{buf: (*p)[:0], pooled: p}
}

// free returns buf to the pool, unless it grew too large to keep.
func (e *encoder) free() {
	if cap(e.buf) > maxPooledSize {
		return
	}
	*e.pooled = e.buf[:0]
	bufPool.Put(e.pooled)
}

func (e *encoder) writeComma() {
	if e.comma {
		e.buf = append(e.buf, ',')
	}
}

func (e *encoder) appendKey(key string) {
	e.writeComma()
	e.buf = appendString(e.buf, key)
	e.buf = append(e.buf, ':')
	e.comma = true
}

// appendAttrs appends attrs and reports whether any of them was written.
func (e *encoder) appendAttrs(attrs []slog.Attr) bool {
	written := false
	for i := range attrs {
		written = e.appendAttr(&attrs[i]) || written
	}
	return written
}

// appendAttr appends a, following slog's rules: the value is resolved, an
// Attr{} is dropped, a group with an empty key is inlined and a group without
// attributes, or whose attributes are all dropped, is dropped too. It
// reports whether anything was written.
func (e *encoder) appendAttr(a *slog.Attr) bool {
	v := a.Value
	kind := v.Kind()
	if kind == slog.KindLogValuer {
		v = v.Resolve()
		kind = v.Kind()
	}
	switch kind {
	case slog.KindString: // the common case, without a call to appendValue
		e.appendKey(a.Key)
		e.buf = appendString(e.buf, v.String())
		return true
	case slog.KindGroup:
		return e.appendGroup(a.Key, v.Group())
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil:
			if a.Key == "" {
				return false
			}
		case *slog.Source:
			if x == nil || *x == (slog.Source{}) {
				return false
			}
			return e.appendGroup(a.Key, sourceGroup(x))
		}
	}
	e.appendKey(a.Key)
	e.appendValue(kind, v)
	return true
}

// appendGroup appends the group attrs called key (inlined if key is empty)
// and reports whether anything was written.
func (e *encoder) appendGroup(key string, attrs []slog.Attr) bool {
	pos, comma := len(e.buf), e.comma
	if key != "" {
		e.appendKey(key)
		e.buf = append(e.buf, '{')
		e.comma = false
	}
	if !e.appendAttrs(attrs) {
		e.buf, e.comma = e.buf[:pos], comma
		return false
	}
	if key != "" {
		e.buf = append(e.buf, '}')
		e.comma = true
	}
	return true
}

// sourceGroup is how slog.JSONHandler writes a *slog.Source value: a group
// of its non-zero fields.
func sourceGroup(s *slog.Source) []slog.Attr {
	attrs := make([]slog.Attr, 0, 3)
	if s.Function != "" {
		attrs = append(attrs, slog.String("function", s.Function))
	}
	if s.File != "" {
		attrs = append(attrs, slog.String("file", s.File))
	}
	if s.Line != 0 {
		attrs = append(attrs, slog.Int("line", s.Line))
	}
	return attrs
}

// appendValue appends v, a resolved value of the given kind, not a group.
func (e *encoder) appendValue(kind slog.Kind, v slog.Value) {
	switch kind {
	case slog.KindString:
		e.buf = appendString(e.buf, v.String())
	case slog.KindInt64:
		e.buf = strconv.AppendInt(e.buf, v.Int64(), 10)
	case slog.KindUint64:
		e.buf = strconv.AppendUint(e.buf, v.Uint64(), 10)
	case slog.KindFloat64:
		e.appendFloat(v.Float64())
	case slog.KindBool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case slog.KindDuration:
		// Nanoseconds, as encoding/json writes a time.Duration.
		e.buf = strconv.AppendInt(e.buf, int64(v.Duration()), 10)
	case slog.KindTime:
		e.appendTime(v.Time(), false)
	default:
		e.appendAny(v.Any())
	}
}

// appendFloat writes f as encoding/json does. NaN and ±Inf, which JSON
// cannot represent, take encoding/json's path so the error text matches.
func (e *encoder) appendFloat(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.appendAny(f)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		// Like encoding/json: 1e-07 becomes 1e-7.
		if n := len(e.buf); n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

var errYearRange = errors.New("time.Time year outside of range [0,9999]")

// appendTime writes t in RFC 3339 with nanoseconds, as time.Time's
// MarshalJSON does; a year RFC 3339 cannot express is written as an error.
// With cached, the formatted second is reused (for a record's own time).
func (e *encoder) appendTime(t time.Time, cached bool) {
	if y := t.Year(); y < 0 || y >= 10000 {
		e.appendError(errYearRange)
		return
	}
	e.buf = append(e.buf, '"')
	if cached {
		e.buf = appendRecordTime(e.buf, t)
	} else {
		e.buf = t.AppendFormat(e.buf, time.RFC3339Nano)
	}
	e.buf = append(e.buf, '"')
}

// appendAny writes an error as its message, unless it marshals itself, and
// anything else as encoding/json does (without HTML escaping). Failures and
// panics are written as strings in slog's "!ERROR:" and "!PANIC:" forms,
// never returned: a log line must not be lost to its contents.
func (e *encoder) appendAny(a any) {
	defer func() {
		if r := recover(); r != nil {
			// A nil pointer whose Error or MarshalJSON forgot to check for nil.
			if v := reflect.ValueOf(a); v.Kind() == reflect.Pointer && v.IsNil() {
				e.buf = appendString(e.buf, "<nil>")
				return
			}
			e.buf = appendString(e.buf, fmt.Sprintf("!PANIC: %v", r))
		}
	}()
	if err, ok := a.(error); ok {
		if _, ok := a.(json.Marshaler); !ok {
			e.buf = appendString(e.buf, err.Error())
			return
		}
	}
	if err := e.appendMarshal(a); err != nil {
		e.appendError(err)
	}
}

func (e *encoder) appendError(err error) {
	e.buf = appendString(e.buf, "!ERROR:"+err.Error())
}

// jsonEncoder is a json.Encoder with its buffer, pooled because building one
// allocates.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoderPool = sync.Pool{New: func() any {
	j := new(jsonEncoder)
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	return j
}}

func (e *encoder) appendMarshal(a any) error {
	j := jsonEncoderPool.Get().(*jsonEncoder)
	defer func() {
		if j.buf.Cap() <= maxPooledSize {
			j.buf.Reset()
			jsonEncoderPool.Put(j)
		}
	}()
	if err := j.enc.Encode(a); err != nil {
		return err
	}
	out := j.buf.Bytes()
	e.buf = append(e.buf, out[:len(out)-1]...) // drop Encode's newline
	return nil
}

// appendString appends s as a quoted JSON string, escaped exactly as
// slog.JSONHandler does: quotes, backslashes and control characters, U+2028
// and U+2029, and invalid UTF-8 as U+FFFD. <, > and & are left alone, as
// slog does (it encodes with SetEscapeHTML(false)).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	if i := safePrefix(s); i < len(s) {
		return append(appendEscaped(buf, s, i), '"')
	}
	buf = append(buf, s...)
	return append(buf, '"')
}

// safePrefix returns len(s) if no byte of s may need escaping, or else the
// length of a prefix of s that needs none. Most strings in a log need no
// escaping, so it tests eight bytes at a time, the last word overlapping the
// one before (or, for four to seven bytes, two overlapping halves in one
// word).
func safePrefix(s string) int {
	n := len(s)
	switch {
	case n >= 8:
		i := 0
		for ; i+8 <= n; i += 8 {
			if needsEscape(load8(s, i)) {
				return i
			}
		}
		if i < n && needsEscape(load8(s, n-8)) {
			return i
		}
		return n
	case n >= 4:
		if needsEscape(load4(s, 0) | load4(s, n-4)<<32) {
			return 0
		}
		return n
	}
	for i := range n {
		if !safe[s[i]] {
			return i
		}
	}
	return n
}

// load8 returns s[i:i+8] as a little-endian word; the compiler makes it one
// load.
func load8(s string, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// load4 returns s[i:i+4] as a little-endian word.
func load4(s string, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// needsEscape reports whether any of the eight bytes in x may need escaping:
// a control character, '"', '\\' or a byte of a multi-byte UTF-8 sequence. It
// may report true for a safe word, never false for an unsafe one.
func needsEscape(x uint64) bool {
	hasZero := func(v uint64) uint64 { return (v - lsb) &^ v & msb }
	return (x-0x20*lsb)&^x&msb|hasZero(x^'"'*lsb)|hasZero(x^'\\'*lsb)|x&msb != 0
}

// appendEscaped appends s escaped; its bytes before i need no escaping.
func appendEscaped(buf []byte, s string, i int) []byte {
	start := 0 // of the bytes not yet appended
	for i < len(s) {
		b := s[i]
		if safe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			// Valid JSON, but they end lines in JavaScript.
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(buf, s[start:]...)
}

const hex = "0123456789abcdef"

// safe reports the bytes a JSON string holds unescaped: ASCII but for the
// control characters, '"' and '\\'. Bytes from 0x80 start a multi-byte
// sequence, which needs decoding to tell.
var safe = func() (t [256]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()
