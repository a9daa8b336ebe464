package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", MaxLen+1)
	tests := []struct {
		in         string
		subjectErr string // "" means valid
		patternErr string
	}{
		{"a", "", ""},
		{"orders.eu.created", "", ""},
		{"ünïcode.ok", "", ""},
		{strings.Repeat("a.", MaxTokens-1) + "a", "", ""},
		{strings.Repeat("a", MaxLen), "", ""},
		{"", `topic: empty subject in ""`, `topic: empty subject in ""`},
		{"a..b", `topic: empty token at position 2 in "a..b"`, `topic: empty token at position 2 in "a..b"`},
		{".a", "empty token at position 1", "empty token at position 1"},
		{"a.", "empty token at position 2", "empty token at position 2"},
		{"a b", "whitespace at position 1", "whitespace at position 1"},
		{"a.\tb", "whitespace at position 2", "whitespace at position 2"},
		{"a.b\x00", "control character at position 2", "control character at position 2"},
		{"a.\xff", "invalid UTF-8", "invalid UTF-8"},
		{long, "exceeds 256 bytes", "exceeds 256 bytes"},
		{strings.Repeat("a.", MaxTokens) + "a", "more than 16 tokens", "more than 16 tokens"},
		{"a.*", `wildcard "*" in a subject at position 2`, ""},
		{"*", `wildcard "*" in a subject`, ""},
		{"a.>", `wildcard ">" in a subject`, ""},
		{">", `wildcard ">" in a subject`, ""},
		{"*.*.>", `wildcard "*" in a subject at position 1`, ""},
		{"a.>.b", `wildcard ">" in a subject at position 2`, `wildcard ">" before the last token at position 2`},
		{"a*", `wildcard '*' inside a token at position 1`, `wildcard '*' inside a token at position 1`},
		{"a.b>", `wildcard '>' inside a token at position 2`, `wildcard '>' inside a token at position 2`},
	}
	for _, tt := range tests {
		check := func(kind string, err error, want string) {
			t.Helper()
			if want == "" {
				if err != nil {
					t.Errorf("%s(%q) = %v, want nil", kind, tt.in, err)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%s(%q) = %v, want a *SyntaxError", kind, tt.in, err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%q) = %q, want it to contain %q", kind, tt.in, err, want)
			}
			if se.Input != tt.in {
				t.Errorf("%s(%q): Input = %q", kind, tt.in, se.Input)
			}
		}
		check("ValidateSubject", ValidateSubject(tt.in), tt.subjectErr)
		check("ValidatePattern", ValidatePattern(tt.in), tt.patternErr)
		if got, want := validSubject(tt.in), tt.subjectErr == ""; got != want {
			t.Errorf("validSubject(%q) = %v, want %v", tt.in, got, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"a", "a.b.c", "a..b", "a.*", "a.>", ">", "*.b.>", "a b", "a.\xff", "a*", ""} {
		f.Add(s)
	}
	trie := NewTrie[int]()
	for i, p := range []string{">", "*", "*.*", "a.>", "a.*.c", "a.b.c"} {
		if err := trie.Insert(p, i); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		subjErr := ValidateSubject(s)
		patErr := ValidatePattern(s)
		if (subjErr == nil) != validSubject(s) {
			t.Fatalf("ValidateSubject(%q) = %v but validSubject = %v", s, subjErr, validSubject(s))
		}
		if subjErr == nil && patErr != nil {
			t.Fatalf("valid subject %q is an invalid pattern: %v", s, patErr)
		}
		matched := 0
		trie.Match(s, func(int) bool { matched++; return true })
		if subjErr == nil && matched == 0 {
			t.Fatalf("valid subject %q matched nothing, want at least \">\"", s)
		}
		if subjErr != nil && matched != 0 {
			t.Fatalf("invalid subject %q matched %d patterns", s, matched)
		}
	})
}
