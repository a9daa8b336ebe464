package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSummaryRunes bounds the summary: the first sentence, cut at a word
// boundary if it is longer.
const maxSummaryRunes = 120

// wordsPerMinute is a common silent-reading speed.
const wordsPerMinute = 200

// summarise builds the summary of n: pure logic, testable on the host.
func summarise(n *note) summary {
	words := len(strings.Fields(n.Body))
	return summary{
		ID:             n.ID,
		Title:          n.Title,
		Summary:        firstSentence(n.Body),
		Words:          words,
		ReadingSeconds: (words*60 + wordsPerMinute - 1) / wordsPerMinute,
	}
}

// firstSentence returns body up to its first sentence end, at most
// maxSummaryRunes runes, cut at a space with an ellipsis when longer.
func firstSentence(body string) string {
	body = strings.TrimSpace(body)
	if i := strings.IndexAny(body, ".!?"); i >= 0 {
		body = body[:i+1]
	}
	if utf8.RuneCountInString(body) <= maxSummaryRunes {
		return body
	}
	cut := []rune(body)[:maxSummaryRunes]
	if i := strings.LastIndexFunc(string(cut), unicode.IsSpace); i > 0 {
		return strings.TrimRightFunc(string(cut)[:i], unicode.IsPunct) + "…"
	}
	return string(cut) + "…"
}
