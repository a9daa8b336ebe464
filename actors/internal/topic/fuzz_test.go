package topic

import (
	"slices"
	"strings"
	"testing"
)

// naiveMatch is the reference semantics, written for clarity rather than
// speed: split both sides and compare token by token.
func naiveMatch(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(p) == len(s)
}

func FuzzMatch(f *testing.F) {
	f.Add("a.*", "a.>", "*.b.c", "a.b")
	f.Add("a.b.c", ">", "a.*.c", "a.b.c")
	f.Add("*", "*.*", "a.>", "a")
	f.Add("a.>", "a.b.>", "*.*.>", "a.b.c.d.e")
	f.Fuzz(func(t *testing.T, p1, p2, p3, subject string) {
		if ValidateSubject(subject) != nil {
			return
		}
		tr := NewTrie[int]()
		var want []int
		for i, p := range []string{p1, p2, p3} {
			if ValidatePattern(p) != nil {
				continue
			}
			if err := tr.Insert(p, i); err != nil {
				t.Fatalf("Insert(%q): %v", p, err)
			}
			// The same pattern twice is one subscription per value.
			if naiveMatch(p, subject) && !slices.Contains(want, i) {
				want = append(want, i)
			}
		}
		got := tr.AppendMatches(nil, subject)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q %q %q, subject %q: trie matched %v, reference %v", p1, p2, p3, subject, got, want)
		}
		for i, p := range []string{p1, p2, p3} {
			tr.Remove(p, i)
		}
		if tr.Len() != 0 || !tr.root.empty() {
			t.Fatalf("trie not empty after removing every pattern: Len = %d", tr.Len())
		}
	})
}
