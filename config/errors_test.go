package config

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorString(t *testing.T) {
	cause := errors.New(`invalid size "x"`)
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Key: "http.body_limit", Source: "env S_HTTP__BODY_LIMIT", Err: cause}, `http.body_limit (from env S_HTTP__BODY_LIMIT): invalid size "x"`},
		{&Error{Key: "http.body_limit", Err: cause}, `http.body_limit: invalid size "x"`},
		{&Error{Source: "/etc/x.toml", Err: cause}, `/etc/x.toml: invalid size "x"`},
		{&Error{Err: cause}, `invalid size "x"`},
		{&Error{Key: "http.adress", Source: "/c.toml", Err: ErrUnknownKey}, `unknown key "http.adress" in /c.toml`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("%q does not unwrap to its cause", tt.err)
		}
	}
}

func TestErrorsString(t *testing.T) {
	a := &Error{Key: "b.key", Err: errors.New("bad")}
	b := &Error{Key: "a.key", Source: "/f", Err: ErrUnknownKey}
	c := &Error{Key: "a.key", Source: "/f", Err: fs.ErrPermission}
	tests := []struct {
		errs Errors
		want string
	}{
		{Errors{a}, "config: b.key: bad"},
		{Errors{a, b, c}, "config: 3 problems:\n  - a.key (from /f): permission denied\n  - b.key: bad\n  - unknown key \"a.key\" in /f"},
		{Errors{nil, a}, "config: b.key: bad"},
		{nil, "config: no problems"},
	}
	for _, tt := range tests {
		if got := tt.errs.Error(); got != tt.want {
			t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
		}
	}
}

func TestErrorsMatching(t *testing.T) {
	var err error = fmt.Errorf("starting: %w", Errors{
		{Key: "x", Err: fs.ErrNotExist},
		{Key: "y", Source: "/f", Err: ErrUnknownKey},
	})
	var list Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("errors.As(Errors) = %v, %v", list, err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Key != "x" {
		t.Errorf("errors.As(*Error) = %v", one)
	}
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is does not see the causes inside Errors")
	}
}
