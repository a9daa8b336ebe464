package guest

import (
	"strconv"
	"unicode/utf8"
)

// JSONWriter writes one flat JSON object field by field, appending to a
// byte slice without reflection: the cheap way for a component to build a
// message or a response body (see the cost of encoding/json in a guest in
// jsonscan.go). The zero value is ready; Reset reuses a buffer.
//
//	var w guest.JSONWriter
//	w.Int("id", 3)
//	w.Str("title", "Note 3")
//	body := w.Bytes() // {"id":3,"title":"Note 3"}
//
// Keys and string values are escaped as JSON requires; invalid UTF-8
// becomes U+FFFD, as encoding/json writes it. Nested values go in with
// RawJSON, built by another JSONWriter.
type JSONWriter struct {
	buf    []byte
	fields int
}

// Reset starts a new object in buf's memory (buf[:0]).
func (w *JSONWriter) Reset(buf []byte) {
	w.buf, w.fields = buf[:0], 0
}

// key writes the separator and the field's key.
func (w *JSONWriter) key(k string) {
	if w.fields == 0 {
		w.buf = append(w.buf, '{')
	} else {
		w.buf = append(w.buf, ',')
	}
	w.fields++
	w.buf = appendJSONString(w.buf, k)
	w.buf = append(w.buf, ':')
}

// Str writes a string field.
func (w *JSONWriter) Str(key, v string) {
	w.key(key)
	w.buf = appendJSONString(w.buf, v)
}

// Int writes an integer field.
func (w *JSONWriter) Int(key string, v int) {
	w.key(key)
	w.buf = strconv.AppendInt(w.buf, int64(v), 10)
}

// Bool writes a boolean field.
func (w *JSONWriter) Bool(key string, v bool) {
	w.key(key)
	w.buf = strconv.AppendBool(w.buf, v)
}

// RawJSON writes a field whose value is already JSON, such as another
// writer's Bytes; it is copied as is, unchecked.
func (w *JSONWriter) RawJSON(key string, v []byte) {
	w.key(key)
	w.buf = append(w.buf, v...)
}

// Bytes returns the object written so far, closed: {} when no field was
// written. It aliases the writer's buffer, so it is valid until the next
// write or Reset; fields written after it extend the object.
func (w *JSONWriter) Bytes() []byte {
	if w.fields == 0 {
		return append(w.buf, '{', '}')
	}
	return append(w.buf, '}')
}

// appendJSONString appends s as a JSON string. Printable ASCII without
// quotes or backslashes, the common case, is one copy.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if c < utf8.RuneSelf {
			b = appendEscape(b, c)
			i++
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscape appends the escape of the ASCII byte c: a quote, a
// backslash or a control character.
func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}
