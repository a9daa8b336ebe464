package authz

import (
	"regexp"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"
)

// contextUsage is the set of Troupe's context attributes that some policy
// may read. The decision cache keys on these alone, so an attribute no
// policy reads (the path, say) does not split the cache, and a policy set
// that reads the time is not cached at all: a decision that depends on the
// clock cannot be reused.
type contextUsage uint8

// The context attributes Troupe supplies (see RequestContext).
const (
	usesIP contextUsage = 1 << iota
	usesTime
	usesAPIVersion
	usesMethod
	usesPath

	usesAll = usesIP | usesTime | usesAPIVersion | usesMethod | usesPath
)

// contextAttrs maps attribute names to their bit. Other names are never in
// the context record, so reading them means the same thing for every request.
var contextAttrs = map[string]contextUsage{
	"ip": usesIP, "time": usesTime, "api_version": usesAPIVersion, "method": usesMethod, "path": usesPath,
}

var contextWordRE = regexp.MustCompile(`\bcontext\b`)

// contextUsageOf finds the context attributes the policies of set read. It
// scans each policy's canonical text as cedar-go prints it, where every
// access is normalised to context.name, context["name"], context has name or
// context has "name" (escapes decoded, parentheses dropped). Any other use of
// the word "context" — the whole record compared or passed along, a string
// containing the word, an escape left in a name — counts as reading every
// attribute. So the scan can only over-report, which costs cache hits, never
// correctness.
func contextUsageOf(set *cedar.PolicySet) contextUsage {
	var used contextUsage
	for _, p := range set.All() {
		text := string(p.MarshalCedar())
		for _, loc := range contextWordRE.FindAllStringIndex(text, -1) {
			name, ok := accessedName(text[loc[1]:])
			if !ok {
				return usesAll
			}
			used |= contextAttrs[name]
		}
	}
	return used
}

// accessedName returns the attribute named by rest, the text that follows
// the word "context", when rest begins with a named access.
func accessedName(rest string) (string, bool) {
	rest = strings.TrimLeft(rest, " \t\n")
	switch {
	case strings.HasPrefix(rest, "."):
		return leadingIdent(rest[1:])
	case strings.HasPrefix(rest, "["):
		return leadingQuoted(strings.TrimLeft(rest[1:], " "))
	case strings.HasPrefix(rest, "has "):
		rest = strings.TrimLeft(rest[len("has "):], " ")
		if strings.HasPrefix(rest, `"`) {
			return leadingQuoted(rest)
		}
		return leadingIdent(rest)
	}
	return "", false
}

// leadingIdent returns the Cedar identifier at the start of s.
func leadingIdent(s string) (string, bool) {
	n := 0
	for n < len(s) && (s[n] == '_' || 'a' <= s[n] && s[n] <= 'z' || 'A' <= s[n] && s[n] <= 'Z' || n > 0 && '0' <= s[n] && s[n] <= '9') {
		n++
	}
	return s[:n], n > 0
}

// leadingQuoted returns the content of the string literal at the start of s
// when it has no escapes; with escapes the name is not known for sure.
func leadingQuoted(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", false
	}
	end := strings.IndexAny(s[1:], `"\`)
	if end < 0 || s[1+end] == '\\' {
		return "", false
	}
	return s[1 : 1+end], true
}
