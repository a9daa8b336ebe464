package config

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sourceDefault is the source of a key no file or variable set.
const sourceDefault = "default"

// maxAlign is the widest "key = value" the dump pads to.
const maxAlign = 56

// Effective describes a loaded configuration: each key's final value
// (secrets redacted) and the source it came from. It answers "why is this
// setting what it is?" without a debugger, and is safe to log.
type Effective struct {
	keys    []string
	values  map[string]string // rendered as TOML, secrets redacted
	sources map[string]string
	via     map[string]string // secret key → the _file key that filled it
	files   []string
}

// effective snapshots the decoded struct, so later changes to it do not
// alter what the dump reports was loaded.
func (r *run) effective(root reflect.Value) *Effective {
	e := &Effective{
		keys:    r.schema.keys,
		values:  make(map[string]string, len(r.schema.keys)),
		sources: make(map[string]string, len(r.schema.keys)),
		via:     r.via,
		files:   r.files,
	}
	for _, key := range r.schema.keys {
		l := r.schema.leaves[key]
		e.values[key] = renderValue(root.FieldByIndex(l.index), l.secret)
		e.sources[key] = sourceDefault
		if s, ok := r.sources[key]; ok {
			e.sources[key] = s
		}
	}
	return e
}

// Source returns where key's value came from: "default", a file path, or
// "env SHOWCASE_HTTP__ADDRESS". It is "" for a key the schema lacks.
func (e *Effective) Source(key string) string { return e.sources[key] }

// Value returns key's value as the dump writes it (TOML, secrets
// redacted), "" for an unknown key.
func (e *Effective) Value(key string) string { return e.values[key] }

// Files returns the config files that were read, in load order (lowest
// precedence first).
func (e *Effective) Files() []string { return slices.Clone(e.files) }

// Keys returns every leaf key of the schema, sorted.
func (e *Effective) Keys() []string { return slices.Clone(e.keys) }

// WriteTo writes the effective config as TOML with dotted keys, one line
// per key, each followed by its source as a comment:
//
//	http.address = ":8080"        # default
//	db.password = "[redacted]"    # env ORDERS_DB__PASSWORD
//
// Secrets print as "[redacted]", or "(unset)" when empty, so the dump can be
// logged at startup or served on the admin port.
func (e *Effective) WriteTo(w io.Writer) (int64, error) {
	// Align the source comments, but do not let one long list push every
	// comment off the screen.
	width := 0
	for _, k := range e.keys {
		width = max(width, min(len(k)+len(" = ")+len(e.values[k]), maxAlign))
	}
	var buf bytes.Buffer
	for _, k := range e.keys {
		source := e.sources[k]
		if f := e.via[k]; f != "" {
			source += " via " + f
		}
		line := k + " = " + e.values[k]
		fmt.Fprintf(&buf, "%-*s  # %s\n", width, line, source)
	}
	return buf.WriteTo(w)
}

// renderValue formats v as a TOML value in the units an operator writes:
// durations and sizes as their strings.
func renderValue(v reflect.Value, secret bool) string {
	if isText(v.Type()) {
		text, _ := v.Interface().(encoding.TextMarshaler).MarshalText()
		return quote(string(text))
	}
	switch {
	case secret && v.String() == "":
		return `"(unset)"`
	case secret:
		return `"[redacted]"`
	case v.Type() == durationType:
		return quote(shortDuration(time.Duration(v.Int())))
	case v.Type() == sizeType:
		return quote(Size(v.Int()).String())
	case v.Kind() == reflect.String:
		return quote(v.String())
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case isInt(v.Type()):
		return strconv.FormatInt(v.Int(), 10)
	case isUint(v.Type()):
		return strconv.FormatUint(v.Uint(), 10)
	case v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64:
		return formatFloat(v.Float())
	}
	items := make([]string, v.Len())
	for i := range items {
		items[i] = renderValue(v.Index(i), false)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// shortDuration drops the zero tails time.Duration.String adds: "8760h",
// not "8760h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formatFloat writes f so TOML reads it back as a float, not an integer.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quote writes s as a TOML basic string. strconv.Quote is close but emits
// \x and \a escapes TOML does not have.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
