package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownKey is the cause of an Error for a key that the destination
// struct does not declare. A typo in a key would otherwise be silently
// ignored and the default used, which is the failure strict decoding exists
// to prevent.
var ErrUnknownKey = errors.New("unknown key")

// Error is one configuration problem: which key, where its value came from
// and what is wrong with it. Key is empty for problems with a whole source
// (a file that does not parse); Source is empty when no source applies.
type Error struct {
	Key    string // dotted key path, e.g. "http.body_limit"
	Source string // a file path, "env SHOWCASE_HTTP__BODY_LIMIT" or "default"
	Err    error
}

// Error renders the problem on one line, naming the key and its source:
//
//	http.body_limit (from env SHOWCASE_HTTP__BODY_LIMIT): invalid size "x": ...
//	unknown key "http.adress" in /home/u/.config/showcase/config.toml
func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrUnknownKey):
		return fmt.Sprintf("unknown key %q in %s", e.Key, e.Source)
	case e.Key != "" && e.Source != "":
		return fmt.Sprintf("%s (from %s): %v", e.Key, e.Source, e.Err)
	case e.Key != "":
		return fmt.Sprintf("%s: %v", e.Key, e.Err)
	case e.Source != "":
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	}
	return fmt.Sprint(e.Err)
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrUnknownKey)
// works.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one load. Load reports them all at once
// so that an operator fixes a config in one round trip instead of one
// restart per typo.
type Errors []*Error

// Error renders one problem per line, sorted so that the output is stable
// from run to run; a single problem stays on one line.
func (es Errors) Error() string {
	lines := make([]string, 0, len(es))
	for _, e := range es {
		if e != nil {
			lines = append(lines, e.Error())
		}
	}
	slices.Sort(lines)
	switch len(lines) {
	case 0:
		return "config: no problems"
	case 1:
		return "config: " + lines[0]
	}
	return fmt.Sprintf("config: %d problems:\n  - %s", len(lines), strings.Join(lines, "\n  - "))
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, 0, len(es))
	for _, e := range es {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// sort orders the problems the way Error prints them.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int { return strings.Compare(a.Error(), b.Error()) })
}
