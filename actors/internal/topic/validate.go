package topic

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxLen is the maximum length of a subject or pattern in bytes. It bounds
	// the work a single publish can cause and matches what fits comfortably in
	// a NATS subject alongside Troupe's prefix.
	MaxLen = 256
	// MaxTokens is the maximum number of tokens in a subject or pattern. It
	// bounds the depth of the trie and therefore of a match walk.
	MaxTokens = 16
)

// SyntaxError reports why a subject or pattern is invalid. Pos is the 1-based
// position of the offending token, or 0 when the error concerns the whole
// input (empty, too long, too many tokens).
type SyntaxError struct {
	Input  string // the subject or pattern as given
	Pos    int    // 1-based token position, 0 for the whole input
	Reason string // what is wrong, e.g. "empty token"
}

// Error formats the problem with its position so that a bad subscription in
// configuration or a guest call can be fixed from the message alone.
func (e *SyntaxError) Error() string {
	if e.Pos == 0 {
		return fmt.Sprintf("topic: %s in %q", e.Reason, e.Input)
	}
	return fmt.Sprintf("topic: %s at position %d in %q", e.Reason, e.Pos, e.Input)
}

// ValidateSubject reports whether s is a valid subject to publish on: a
// pattern without wildcards. The error is a *SyntaxError.
func ValidateSubject(s string) error {
	return validate(s, false)
}

// ValidatePattern reports whether p is a valid subscription pattern: a
// subject in which a token may be "*", and the last token may be ">". The
// error is a *SyntaxError.
func ValidatePattern(p string) error {
	return validate(p, true)
}

// validate checks s token by token; wildcards decides whether "*" and ">"
// tokens are allowed.
func validate(s string, wildcards bool) error {
	if err := checkWhole(s); err != nil {
		return err
	}
	pos := 0
	for rest := s; ; {
		pos++
		if pos > MaxTokens {
			return &SyntaxError{Input: s, Reason: fmt.Sprintf("more than %d tokens", MaxTokens)}
		}
		tok, tail, more := strings.Cut(rest, ".")
		if reason := checkToken(tok, wildcards, !more); reason != "" {
			return &SyntaxError{Input: s, Pos: pos, Reason: reason}
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// checkWhole applies the limits that concern the input as a whole.
func checkWhole(s string) error {
	switch {
	case s == "":
		return &SyntaxError{Input: s, Reason: "empty subject"}
	case len(s) > MaxLen:
		return &SyntaxError{Input: s, Reason: fmt.Sprintf("length %d exceeds %d bytes", len(s), MaxLen)}
	case !utf8.ValidString(s):
		return &SyntaxError{Input: s, Reason: "invalid UTF-8"}
	}
	return nil
}

// checkToken returns why tok is invalid, or "" when it is valid. last says
// whether tok is the final token, the only place ">" may appear.
func checkToken(tok string, wildcards, last bool) string {
	switch {
	case tok == "":
		return "empty token"
	case tok == "*" || tok == ">":
		if !wildcards {
			return fmt.Sprintf("wildcard %q in a subject", tok)
		}
		if tok == ">" && !last {
			return `wildcard ">" before the last token`
		}
		return ""
	}
	for _, r := range tok {
		switch {
		case r == '*' || r == '>':
			return fmt.Sprintf("wildcard %q inside a token", r)
		case unicode.IsSpace(r):
			return "whitespace"
		case unicode.IsControl(r):
			return "control character"
		}
	}
	return ""
}

// validSubject is ValidateSubject without building an error: one pass over
// the bytes with an ASCII fast path, because Match runs it on every publish.
// FuzzValidate keeps the two in agreement.
func validSubject(s string) bool {
	if s == "" || len(s) > MaxLen {
		return false
	}
	tokens, tokLen := 1, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '.':
				if tokLen == 0 || tokens == MaxTokens {
					return false
				}
				tokens, tokLen = tokens+1, 0
			case c == '*' || c == '>' || c <= ' ' || c == 0x7f: // wildcard, ASCII space or control
				return false
			default:
				tokLen++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
		tokLen++
		i += size
	}
	return tokLen > 0
}
