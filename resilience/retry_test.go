package resilience

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{" 120 ", 2 * time.Minute, true},
		{"Wed, 01 Jan 2025 00:00:30 GMT", 30 * time.Second, true},
		{"Tue, 31 Dec 2024 23:00:00 GMT", 0, true}, // in the past
		{"99999999999999999999", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Wed, 01 Jan 2025 00:00:30 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "18446744073709551615", "x"} {
		f.Add(s)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseRetryAfter(s, now); d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func TestFullJitterBounds(t *testing.T) {
	largest := func(n int64) int64 { return n - 1 }
	cases := []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{5, time.Second}, // capped
		{80, time.Second},
	}
	for _, tc := range cases {
		if got := fullJitter(tc.n, 100*time.Millisecond, time.Second, largest); got != tc.want {
			t.Errorf("retry %d: %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := fullJitter(2, 100*time.Millisecond, time.Second, func(int64) int64 { return 0 }); got != 0 {
		t.Errorf("smallest jitter = %v, want 0", got)
	}
}

func TestRetryBudgetRefillsWithTime(t *testing.T) {
	now := time.Unix(0, 0)
	b := newRetryBudget(0, 1, func() time.Time { return now })
	if !b.withdraw() || b.withdraw() {
		t.Fatal("want exactly the first second's token")
	}
	now = now.Add(time.Hour)
	n := 0
	for b.withdraw() {
		n++
	}
	if n != 10 {
		t.Fatalf("after an idle hour %d retries, want the 10 s cap", n)
	}
}
