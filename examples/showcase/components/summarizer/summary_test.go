package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummarise(t *testing.T) {
	long := strings.Repeat("word ", 60)
	cases := []struct {
		name, body, want string
		words, secs      int
	}{
		{"first sentence", "This is seeded note number 3. And more text here.", "This is seeded note number 3.", 10, 3},
		{"no terminator", "just words", "just words", 2, 1},
		{"empty", "", "", 0, 0},
		{"long sentence cut at a space", long, strings.TrimSpace(strings.Repeat("word ", 24)) + "…", 60, 18},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := summarise(&note{ID: 3, Title: "T", Body: c.body})
			if s.Summary != c.want || s.Words != c.words || s.ReadingSeconds != c.secs {
				t.Errorf("summarise(%q) = %+v; want summary %q, %d words, %d s", c.body, s, c.want, c.words, c.secs)
			}
			if utf8.RuneCountInString(s.Summary) > maxSummaryRunes+1 {
				t.Errorf("summary has %d runes, over the bound", utf8.RuneCountInString(s.Summary))
			}
		})
	}
}
