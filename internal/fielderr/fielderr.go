// Package fielderr names the field of a Go config that a validation problem
// is about, so that one semantic check serves two audiences: a Go user who
// builds the config by hand reads "resilience: FailureRatio: must be ...",
// and the service, which filled the same config from a config section,
// turns the field path into the key and its source
// ("resilience.breaker.failure_ratio (from env ORDERS_...): must be ...").
//
// The package that implements a value owns its check (DESIGN §2); this
// package only carries the field name from there to whoever reports it.
package fielderr

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Error is a problem with one field of a Go config.
type Error struct {
	// Field is the Go field path from the config's root, dots between
	// nested fields: "Breaker.FailureRatio".
	Field string
	// Err says what is wrong, in words that need no field name.
	Err error
}

// Error reports the field path and the problem.
func (e *Error) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error for field with a formatted problem.
func New(field, format string, args ...any) error {
	return &Error{Field: field, Err: fmt.Errorf(format, args...)}
}

// Prefix puts parent in front of the field path of every *Error in err (a
// single one or an errors.Join of them), for a config nested in another;
// other errors are kept as they are. It returns nil for a nil err.
func Prefix(parent string, err error) error {
	if err == nil {
		return nil
	}
	list := All(err)
	out := make([]error, 0, len(list))
	for _, e := range list {
		var fe *Error
		if errors.As(e, &fe) {
			out = append(out, &Error{Field: parent + "." + fe.Field, Err: fe.Err})
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// All returns the problems err holds: the parts of an errors.Join (nested
// joins flattened), or err itself. It returns nil for a nil err.
func All(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, All(e)...)
		}
		return out
	}
	return []error{err}
}

// Key turns a Go field path into a config key under section, by the rule
// every Troupe section follows: each field's name in snake_case
// ("Breaker.FailureRatio" under "resilience" is
// "resilience.breaker.failure_ratio"). An initialism stays one word
// ("JWKSRefresh" is "jwks_refresh", "URLs" is "urls"); two initialisms in a
// row cannot be told apart ("JWKSURLs"), so a caller maps such a field
// itself.
func Key(section, field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		parts[i] = snake(p)
	}
	if section == "" {
		return strings.Join(parts, ".")
	}
	return section + "." + strings.Join(parts, ".")
}

// snake converts one Go identifier to snake_case: a word starts at an upper
// case letter that follows a lower case letter or digit, or that precedes a
// lower case letter after another upper case one ("HTTPClient" is
// "http_client"); a plural "s" after an initialism stays with it ("URLs").
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			pluralTail := i+2 == len(r) && r[i+1] == 's' // "URLs": the s is not a word
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower && !pluralTail) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
