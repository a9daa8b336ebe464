package config

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
	}{
		{"0", 0},
		{"512", 512},
		{"512B", 512},
		{"512b", 512},
		{"10KiB", 10 * KiB},
		{"10 KiB", 10 * KiB},
		{"10kib", 10 * KiB},
		{"10MiB", 10 * MiB},
		{"1GiB", GiB},
		{"2TiB", 2 * TiB},
		{"1KB", 1000},
		{"1kb", 1000},
		{"1MB", 1_000_000},
		{"1GB", 1_000_000_000},
		{"007KiB", 7 * KiB},
		{"7EiB", 7 * EiB},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775807B", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeRejects(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "must start with a non-negative whole number"},
		{"-1", "must start with a non-negative whole number"},
		{"+1", "must start with a non-negative whole number"},
		{"KiB", "must start with a non-negative whole number"},
		{" 1", "must start with a non-negative whole number"},
		{"1.5MiB", `unknown unit ".5MiB"`},
		{"12XB", `unknown unit "XB"`},
		{"10  KiB", `unknown unit " KiB"`},
		{"10KiB ", `unknown unit "KiB "`},
		{"1 ", "trailing space"},
		{"0x10", `unknown unit "x10"`},
		{"1_000", `unknown unit "_000"`},
		{"8EiB", "too large"},
		{"9223372036854775808", "too large"},
		{"99999999999999999999999KiB", "too large"},
		{"9223372036854775807KB", "too large"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
			t.Errorf("ParseSize(%q) error %q; want it to quote the input and say %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1000, "1000B"},
		{1024, "1KiB"},
		{1536, "1536B"},
		{10 * MiB, "10MiB"},
		{1024 * MiB, "1GiB"},
		{3 * EiB, "3EiB"},
		{math.MaxInt64, "9223372036854775807B"},
		{-2048, "-2KiB"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
	if got := (5 * KiB).Int64(); got != 5120 {
		t.Errorf("Int64() = %d, want 5120", got)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "512B", "10 KiB", "1kb", "7EiB", "1.5MiB", "-1", "", "9223372036854775807", "12XB", "1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("ParseSize(%q) returned %d with error %v", s, n, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		back, err := ParseSize(n.String())
		if err != nil || back != n {
			t.Fatalf("round trip %q → %d → %q → %d, %v", s, n, n.String(), back, err)
		}
	})
}
