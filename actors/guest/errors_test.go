package guest

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: CodeDenied, Message: "actor:send:billing"}, "troupe: denied: actor:send:billing"},
		{&Error{Code: CodeNotFound}, "troupe: not found"},
		{&Error{Code: CodeTooLarge, Message: "value"}, "troupe: too large: value"},
		{&Error{Code: 42, Message: "new"}, "troupe: code 42: new"},
		{&Error{Code: 0}, "troupe: code 0"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	denied := &Error{Code: CodeDenied, Message: "kv:write:notes"}
	wrapped := fmt.Errorf("saving: %w", denied)
	tests := []struct {
		err, target error
		want        bool
	}{
		{denied, ErrDenied, true},
		{wrapped, ErrDenied, true},
		{denied, ErrNotFound, false},
		{denied, &Error{Code: CodeDenied, Message: "kv:write:notes"}, true},
		{denied, &Error{Code: CodeDenied, Message: "other"}, false},
		{ErrDenied, denied, false}, // a sentinel is not a specific error
		{denied, errors.New("troupe: denied"), false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
		}
	}
}
