package state

import (
	"errors"
	"strings"
	"testing"
)

// errBadEscape reports a bucket key escapeKey cannot have made.
var errBadEscape = errors.New("state: not an escaped key")

// unescapeKey inverts escapeKey. It fails for a string escapeKey never
// returns: a byte outside the charset, a safe byte written as an escape,
// or a malformed escape.
func unescapeKey(s string) (string, error) {
	if s == "" {
		return "", errBadEscape
	}
	if !strings.Contains(s, "=") {
		for i := range len(s) {
			if !keySafe(s[i]) {
				return "", errBadEscape
			}
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case keySafe(c):
			b = append(b, c)
		case c == '=' && i+2 < len(s):
			hi, lo := unhex(s[i+1]), unhex(s[i+2])
			if hi < 0 || lo < 0 || keySafe(byte(hi<<4|lo)) {
				return "", errBadEscape
			}
			b = append(b, byte(hi<<4|lo))
			i += 2
		default:
			return "", errBadEscape
		}
	}
	return string(b), nil
}

// unhex returns the value of an upper-case hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// FuzzKeyEscape feeds escapeKey arbitrary keys, as components do: every
// key it accepts comes out in JetStream's key charset, with no '.', and
// comes back unchanged.
func FuzzKeyEscape(f *testing.F) {
	for _, k := range []string{"a", "kv/notes/1", "a.b", "=", "=3D", "..", ".", "a b", "\x00", "\xff\xfe", "*", ">", "$KV.x", "é"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		esc, err := escapeKey(key)
		if err != nil {
			if key != "" && len(key) <= maxEscapedKey/3 {
				t.Fatalf("escapeKey(%q) = %v", key, err)
			}
			return
		}
		if !validKey(esc) || len(esc) > maxEscapedKey {
			t.Fatalf("escapeKey(%q) = %q, not a valid JetStream key", key, esc)
		}
		back, err := unescapeKey(esc)
		if err != nil || back != key {
			t.Fatalf("unescapeKey(escapeKey(%q)) = %q, %v", key, back, err)
		}
	})
}

// validKey is nats.go's rule for a KV key (jetstream/kv.go keyValid),
// stricter here: escapeKey never writes a '.'.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		if c := k[i]; !keySafe(c) && c != '=' {
			return false
		}
	}
	return true
}
