package abi

import "testing"

func TestCanonicalKey(t *testing.T) {
	tests := map[string]string{
		"content-type":   "Content-Type",
		"Content-Type":   "Content-Type",
		"X-REQUEST-ID":   "X-Request-Id",
		"etag":           "Etag",
		"":               "",
		"bad key":        "bad key", // not a token: left alone
		"x--y":           "X--Y",
		"accept-ünicode": "accept-ünicode",
	}
	for in, want := range tests {
		if got := canonicalKey(in); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitPublication(t *testing.T) {
	for _, tt := range []struct {
		msg, subject, data string
		ok                 bool
	}{
		{"\x03\x00\x00\x00abcdata", "abc", "data", true},
		{"\x00\x00\x00\x00", "", "", true},
		{"\x05\x00\x00\x00abc", "", "", false},
		{"ab", "", "", false},
	} {
		subject, data, ok := SplitPublication([]byte(tt.msg))
		if subject != tt.subject || string(data) != tt.data || ok != tt.ok {
			t.Errorf("SplitPublication(%q) = %q, %q, %v; want %q, %q, %v", tt.msg, subject, data, ok, tt.subject, tt.data, tt.ok)
		}
	}
}
