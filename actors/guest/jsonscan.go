package guest

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A Go guest pays for every branch it takes: wazero compiles a termination
// check, an exit from machine code to Go and back (~27 ns), into every loop
// header, and Go's wasm port turns every jump between basic blocks into a
// branch to its function's dispatch loop. encoding/json, which walks a
// value through reflection with many small calls, is five times slower
// in a checked guest than unchecked: decoding the showcase's 330-byte HTTP
// request took ~280 µs, a 110-byte reply ~100 µs (docs/benchmarks.md,
// issue 19 item 3). The scanner below reads the same JSON in one pass with
// few calls, and returns strings without copying their escapes twice.

// maxJSONDepth is how deeply values may nest, as in encoding/json.
const maxJSONDepth = 10000

// JSONValue is one value of a JSON document that ScanJSONObject or
// ScanJSONArray found: its syntactically valid text, a substring of the
// one copy of the document they make, so that neither the value nor the
// strings read from it cost an allocation of their own (an allocation
// costs a checked guest ~1 µs).
type JSONValue struct {
	raw   string
	plain bool // a string of printable ASCII without escapes
}

// Raw returns the value's JSON text.
func (v JSONValue) Raw() string { return v.raw }

// IsNull reports whether the value is JSON null.
func (v JSONValue) IsNull() bool { return v.raw == "null" }

// Object scans the value, which must be an object, as ScanJSONObject does,
// without copying it again.
func (v JSONValue) Object(f func(key string, v JSONValue) error) error {
	return scanObject(v.raw, f)
}

// Array scans the value, which must be an array, as ScanJSONArray does,
// without copying it again.
func (v JSONValue) Array(f func(v JSONValue) error) error {
	return scanArray(v.raw, f)
}

// AsString returns the value of a JSON string, unescaped, with invalid
// UTF-8 replaced by U+FFFD as encoding/json does. Any other value is an
// error.
func (v JSONValue) AsString() (string, error) {
	switch {
	case len(v.raw) == 0 || v.raw[0] != '"':
		return "", errNotJSON("a string", v.raw)
	case v.plain:
		return v.raw[1 : len(v.raw)-1], nil
	}
	return unquoteJSON(v.raw), nil
}

// AsInt returns the value of a JSON number written as an integer that fits
// an int; a fraction, an exponent or an overflow is an error, as
// encoding/json reports for an int field.
func (v JSONValue) AsInt() (int, error) {
	n, err := strconv.ParseInt(v.raw, 10, strconv.IntSize)
	if err != nil {
		return 0, errNotJSON("an integer", v.raw)
	}
	return int(n), nil
}

// AsBool returns the value of JSON true or false; anything else is an
// error.
func (v JSONValue) AsBool() (bool, error) {
	switch v.raw {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errNotJSON("a boolean", v.raw)
}

// errNotJSON says that raw is not the kind of value wanted.
func errNotJSON(want string, raw string) error {
	if len(raw) > 40 {
		raw = raw[:40]
	}
	return errors.New("json: want " + want + ", got " + strconv.Quote(raw))
}

// ScanJSONObject calls f with the key and value of each member of the JSON
// object data, in order, and fails on the first error f returns or on any
// syntax error, which it finds before calling f for members past it. Values
// are substrings of one copy of data, so a component reads a flat message
// without encoding/json's reflection, and with one allocation: nested
// objects and arrays arrive as values to scan with their Object and Array
// methods.
func ScanJSONObject(data []byte, f func(key string, v JSONValue) error) error {
	return scanObject(string(data), f)
}

// ScanJSONArray calls f with each element of the JSON array data, in
// order, and fails on the first error f returns or on a syntax error.
func ScanJSONArray(data []byte, f func(v JSONValue) error) error {
	return scanArray(string(data), f)
}

func scanObject(doc string, f func(string, JSONValue) error) error {
	s := jsonScanner{data: doc}
	s.space()
	if s.peek() != '{' {
		return s.fail("want an object")
	}
	if err := s.members(0, f); err != nil {
		return err
	}
	return s.end()
}

func scanArray(doc string, f func(JSONValue) error) error {
	s := jsonScanner{data: doc}
	s.space()
	if s.peek() != '[' {
		return s.fail("want an array")
	}
	if err := s.elements(0, f); err != nil {
		return err
	}
	return s.end()
}

// jsonScanner reads one JSON document; pos is the next byte.
type jsonScanner struct {
	data string
	pos  int
}

// end requires that only white space follows the value read.
func (s *jsonScanner) end() error {
	s.space()
	if s.pos != len(s.data) {
		return s.fail("unexpected data after the value")
	}
	return nil
}

// fail reports a syntax error at pos: msg, or the end of the input when
// pos is there.
func (s *jsonScanner) fail(msg string) error {
	if s.pos >= len(s.data) {
		return errors.New("json: unexpected end of input")
	}
	return errors.New("json: " + msg + " at offset " + strconv.Itoa(s.pos))
}

// peek returns the next byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *jsonScanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// members reads an object from its '{', calling f for each member; depth
// is the object's nesting.
func (s *jsonScanner) members(depth int, f func(string, JSONValue) error) error {
	if depth >= maxJSONDepth {
		return s.fail("values nested too deeply")
	}
	s.pos++ // '{'
	s.space()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.fail("want a string key")
		}
		start := s.pos
		plain, err := s.strPlain()
		if err != nil {
			return err
		}
		key := s.data[start+1 : s.pos-1]
		if !plain {
			key = unquoteJSON(s.data[start:s.pos])
		}
		s.space()
		if s.peek() != ':' {
			return s.fail("want ':' after an object key")
		}
		s.pos++
		s.space()
		v, err := s.value(depth + 1)
		if err != nil {
			return err
		}
		if f != nil {
			if err := f(key, v); err != nil {
				return err
			}
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
			s.space()
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("want ',' or '}' in an object")
		}
	}
}

// elements reads an array from its '[', calling f for each element.
func (s *jsonScanner) elements(depth int, f func(JSONValue) error) error {
	if depth >= maxJSONDepth {
		return s.fail("values nested too deeply")
	}
	s.pos++ // '['
	s.space()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		v, err := s.value(depth + 1)
		if err != nil {
			return err
		}
		if f != nil {
			if err := f(v); err != nil {
				return err
			}
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
			s.space()
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("want ',' or ']' in an array")
		}
	}
}

// value reads one value at pos and returns it.
func (s *jsonScanner) value(depth int) (JSONValue, error) {
	start := s.pos
	var err error
	plain := false
	switch c := s.peek(); {
	case c == '"':
		plain, err = s.strPlain()
	case c == '{':
		err = s.members(depth, nil)
	case c == '[':
		err = s.elements(depth, nil)
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		err = s.number()
	default:
		err = s.fail("want a value")
	}
	return JSONValue{raw: s.data[start:s.pos], plain: plain}, err
}

func (s *jsonScanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || s.data[s.pos:s.pos+len(word)] != word {
		return s.fail("want " + word)
	}
	s.pos += len(word)
	return nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *jsonScanner) number() error {
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return s.fail("want a digit")
	}
	if s.peek() == '.' {
		s.pos++
		if !s.digits() {
			return s.fail("want a digit after '.'")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !s.digits() {
			return s.fail("want a digit in the exponent")
		}
	}
	return nil
}

// digits skips a run of digits and reports whether there was one.
func (s *jsonScanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

// strPlain reads a string from its opening quote, checking its escapes,
// and reports whether the string holds only printable ASCII
// without escapes, which unquoteJSON then returns as is. The loop over
// plain bytes is one test a byte: in a guest each taken branch costs a
// termination check.
func (s *jsonScanner) strPlain() (plain bool, err error) {
	d, i := s.data, s.pos+1
	plain = true
	for {
		for i < len(d) && d[i] >= 0x20 && d[i] != '"' && d[i] != '\\' && d[i] < utf8.RuneSelf {
			i++
		}
		switch {
		case i >= len(d):
			s.pos = i
			return false, s.fail("unterminated string")
		case d[i] == '"':
			s.pos = i + 1
			return plain, nil
		case d[i] < 0x20:
			s.pos = i
			return false, s.fail("control character in a string")
		case d[i] == '\\':
			s.pos = i
			if err := s.escape(); err != nil {
				return false, err
			}
			i = s.pos
		default: // a byte of a multi-byte character
			i++
		}
		plain = false
	}
}

// escape checks the escape sequence at pos.
func (s *jsonScanner) escape() error {
	if s.pos+1 >= len(s.data) {
		return s.fail("unterminated string")
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		if s.pos+6 > len(s.data) || hex4(s.data[s.pos+2:s.pos+6]) < 0 {
			return s.fail("bad \\u escape")
		}
		s.pos += 6
		return nil
	}
	return s.fail("bad escape")
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b string) rune {
	var r rune
	for _, c := range []byte(b[:4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquoteJSON returns the text of the valid JSON string q, quotes
// included, as encoding/json does: escapes resolved, invalid UTF-8 and
// unpaired surrogates replaced by U+FFFD. Plain ASCII, the common case, is
// one conversion.
func unquoteJSON(q string) string {
	body := q[1 : len(q)-1]
	plain := true
	for _, c := range body {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || utf8.ValidString(body) && !hasBackslash(body) {
		return body
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\':
			var r rune
			r, i = unescape(body, i)
			out = utf8.AppendRune(out, r)
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(body[i:])
			out = utf8.AppendRune(out, r) // RuneError for a bad byte, as encoding/json
			i += n
		}
	}
	return string(out)
}

func hasBackslash(b string) bool {
	return strings.IndexByte(b, '\\') >= 0
}

// unescape decodes the checked escape at body[i] and returns the rune and
// the index after it, joining a surrogate pair.
func unescape(body string, i int) (rune, int) {
	switch c := body[i+1]; c {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
	default: // '"', '\\', '/'
		return rune(c), i + 2
	}
	r := hex4(body[i+2:])
	i += 6
	if !utf16.IsSurrogate(r) {
		return r, i
	}
	if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
		if r2 := hex4(body[i+2:]); r2 >= 0 {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, i + 6
			}
		}
	}
	return utf8.RuneError, i
}
