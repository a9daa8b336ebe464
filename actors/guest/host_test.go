//go:build !wasip1

package guest

import (
	"errors"
	"math"
	"testing"
	"time"
)

// Outside wasip1 every host call fails with ErrUnavailable and explains
// why, so a component's logic can be tested on the developer's platform.
func TestHostCallsWithoutHost(t *testing.T) {
	calls := map[string]error{
		"Send":      Send("billing", []byte("x")),
		"Publish":   Publish("orders.new", nil),
		"Subscribe": Subscribe("orders.>"),
		"KVPut":     KVPut("notes", "k", []byte("v")),
		"KVDelete":  KVDelete("notes", "k"),
		"Random":    Random(make([]byte, 8)),
	}
	_, calls["Request"] = Request("billing", nil, time.Second)
	_, calls["KVGet"] = KVGet("notes", "k")
	_, calls["Get"] = Get("https://example.com/")
	for name, err := range calls {
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeUnavailable || e.Message != noHost {
			t.Errorf("%s: err = %v, want unavailable with %q", name, err, noHost)
		}
	}
	if !Now().IsZero() || Self() != "" || (Context{}).Self() != "" {
		t.Error("Now or Self returned a value without a host")
	}
	Log(LevelInfo, "dropped") // must not panic
}

func TestFetchNeedsURL(t *testing.T) {
	for _, req := range []*FetchRequest{nil, {Method: "GET"}} {
		if _, err := Fetch(req); !errors.Is(err, ErrInvalid) {
			t.Errorf("Fetch(%+v) = %v, want ErrInvalid", req, err)
		}
	}
}

func TestTimeoutMS(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int32
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{2 * time.Second, 2000},
		{math.MaxInt64, math.MaxInt32},
	}
	for _, tt := range tests {
		if got := timeoutMS(tt.d); got != tt.want {
			t.Errorf("timeoutMS(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		r       int64
		want    string
		errCode ErrorCode
	}{
		{0, "", 0},
		{5, noHost[:5], 0}, // the stub's pending result
		{int64(len(noHost)) + 1, "", CodeInvalid},
		{math.MaxInt32 + 1, "", CodeInvalid},
		{-2, "", CodeNotFound},
		{math.MinInt64, "", CodeFailed},
	}
	for _, tt := range tests {
		b, err := result(tt.r)
		var e *Error
		switch {
		case tt.errCode == 0 && (err != nil || string(b) != tt.want || b == nil):
			t.Errorf("result(%d) = %q, %v; want %q", tt.r, b, err, tt.want)
		case tt.errCode != 0 && (!errors.As(err, &e) || e.Code != tt.errCode):
			t.Errorf("result(%d) error = %v, want code %v", tt.r, err, tt.errCode)
		}
	}
}
