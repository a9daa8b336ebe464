package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// selector is one vector selector of a PromQL expression: a metric name and
// the label names its matchers test.
type selector struct {
	metric   string
	matchers []string
}

// promRefs is what a PromQL expression refers to: its selectors, and the
// labels of its by/without/on/ignoring/group_* clauses.
type promRefs struct {
	selectors   []selector
	groupLabels []string
}

// metrics lists the selectors' metric names.
func (r promRefs) metrics() []string {
	out := make([]string, len(r.selectors))
	for i, s := range r.selectors {
		out[i] = s.metric
	}
	return out
}

// Identifiers that are never metric names: operators, modifiers and
// aggregations (which may be followed by "by (...)" rather than "(").
var (
	groupingKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	otherKeywords    = []string{
		"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2",
		"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio",
	}
)

// scanPromQL extracts the metric names and label names an expression uses.
// It is a lexer, not a parser: enough to check names in the dashboard and
// the alert rules without importing Prometheus, and strict about the
// tokens it reads (unterminated strings, ranges and matchers are errors).
// Grafana variables ($job, ${x}, $__rate_interval) are skipped.
func scanPromQL(s string) (promRefs, error) {
	var refs promRefs
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(s, i)
			if err != nil {
				return refs, err
			}
			i = end
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return refs, fmt.Errorf("unterminated range at offset %d", i)
			}
			i += end + 1
		case c == '{':
			return refs, fmt.Errorf("selector without a metric name at offset %d", i)
		case c == '$':
			i = skipVariable(s, i)
		case isDigit(c) || c == '.':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdent(s[i]) {
				i++
			}
			word := s[start:i]
			next := skipSpace(s, i)
			lower := strings.ToLower(word)
			switch {
			case slices.Contains(groupingKeywords, lower):
				if next < len(s) && s[next] == '(' {
					labels, end, err := scanLabelList(s, next)
					if err != nil {
						return refs, err
					}
					refs.groupLabels = append(refs.groupLabels, labels...)
					i = end
				}
			case slices.Contains(otherKeywords, lower), next < len(s) && s[next] == '(':
				// An operator, an aggregation or a function call.
			default:
				sel := selector{metric: word}
				if next < len(s) && s[next] == '{' {
					matchers, end, err := scanMatchers(s, next)
					if err != nil {
						return refs, err
					}
					sel.matchers, i = matchers, end
				}
				refs.selectors = append(refs.selectors, sel)
			}
		default:
			i++
		}
	}
	return refs, nil
}

// scanMatchers reads `{name op "value", ...}` starting at the brace and
// returns the label names and the offset after the closing brace.
func scanMatchers(s string, i int) ([]string, int, error) {
	var names []string
	i++
	for {
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
		if i >= len(s) {
			return nil, i, errors.New("unterminated label matchers")
		}
		if s[i] == '}' {
			return names, i + 1, nil
		}
		start := i
		for i < len(s) && isIdent(s[i]) {
			i++
		}
		if start == i || !isIdentStart(s[start]) {
			return nil, i, fmt.Errorf("expected a label name at offset %d", start)
		}
		names = append(names, s[start:i])
		i = skipSpace(s, i)
		switch {
		case strings.HasPrefix(s[i:], "=~"), strings.HasPrefix(s[i:], "!~"), strings.HasPrefix(s[i:], "!="):
			i += 2
		case strings.HasPrefix(s[i:], "="):
			i++
		default:
			return nil, i, fmt.Errorf("expected a matcher operator after label %q", s[start:i])
		}
		i = skipSpace(s, i)
		if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
			return nil, i, fmt.Errorf("expected a quoted value for label %q", names[len(names)-1])
		}
		end, err := skipString(s, i)
		if err != nil {
			return nil, i, err
		}
		i = end
	}
}

// scanLabelList reads `(a, b, ...)` starting at the parenthesis.
func scanLabelList(s string, i int) ([]string, int, error) {
	end := strings.IndexByte(s[i:], ')')
	if end < 0 {
		return nil, i, fmt.Errorf("unterminated label list at offset %d", i)
	}
	var labels []string
	for field := range strings.SplitSeq(s[i+1:i+end], ",") {
		name := strings.TrimSpace(field)
		if name == "" {
			continue
		}
		if !isIdentStart(name[0]) || strings.IndexFunc(name, func(r rune) bool { return r > 127 || !isIdent(byte(r)) }) >= 0 {
			return nil, i, fmt.Errorf("%q is not a label name", name)
		}
		labels = append(labels, name)
	}
	return labels, i + end + 1, nil
}

// skipString returns the offset after the string literal starting at i.
func skipString(s string, i int) (int, error) {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote != '`':
			j++
		case s[j] == quote:
			return j + 1, nil
		}
	}
	return i, fmt.Errorf("unterminated string at offset %d", i)
}

// skipVariable returns the offset after a Grafana variable starting at i.
func skipVariable(s string, i int) int {
	i++
	if i < len(s) && s[i] == '{' {
		if end := strings.IndexByte(s[i:], '}'); end >= 0 {
			return i + end + 1
		}
		return len(s)
	}
	for i < len(s) && isIdent(s[i]) {
		i++
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }

func TestScanPromQL(t *testing.T) {
	tests := []struct {
		expr      string
		selectors []selector
		group     []string
	}{
		{
			expr:      `sum by (job) (rate(foo_total{a="x", b=~"y|z"}[5m])) / sum by (job) (rate(foo_total[5m])) > 0.05`,
			selectors: []selector{{"foo_total", []string{"a", "b"}}, {"foo_total", nil}},
			group:     []string{"job", "job"},
		},
		{
			expr:      `histogram_quantile(0.99, sum by (route, le) (rate(x_bucket{job=~"$job"}[$__rate_interval])))`,
			selectors: []selector{{"x_bucket", []string{"job"}}},
			group:     []string{"route", "le"},
		},
		{expr: `max(state_ratio) == 2`, selectors: []selector{{"state_ratio", nil}}},
		{expr: `rate(a[5m] offset 1h) > bool 3 * b`, selectors: []selector{{"a", nil}, {"b", nil}}},
		{expr: `a{l!="}", m!~'x\'y'} unless on (l) group_left b`, selectors: []selector{{"a", []string{"l", "m"}}, {"b", nil}}, group: []string{"l"}},
		{expr: `sum(x) without (instance)`, selectors: []selector{{"x", nil}}, group: []string{"instance"}},
		{expr: `${ds} 1e3 .5 5m`},
	}
	for _, tt := range tests {
		got, err := scanPromQL(tt.expr)
		if err != nil {
			t.Errorf("scanPromQL(%q): %v", tt.expr, err)
			continue
		}
		if fmt.Sprint(got.selectors) != fmt.Sprint(tt.selectors) || !slices.Equal(got.groupLabels, tt.group) {
			t.Errorf("scanPromQL(%q) = %v by %v; want %v by %v", tt.expr, got.selectors, got.groupLabels, tt.selectors, tt.group)
		}
	}
}

func TestScanPromQLErrors(t *testing.T) {
	for _, expr := range []string{
		`foo{a="x"`,
		`foo{a}`,
		`foo{a=x}`,
		`foo{9="x"}`,
		`rate(x[5m)`,
		`"unterminated`,
		`sum by (job`,
		`sum by (a-b) (x)`,
		`{__name__="x"}`,
	} {
		if _, err := scanPromQL(expr); err == nil {
			t.Errorf("scanPromQL(%q) = nil error; want one", expr)
		}
	}
}

func FuzzScanPromQL(f *testing.F) {
	for _, seed := range []string{
		`sum by (job) (rate(foo_total{a="x"}[5m]))`,
		`histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))`,
		`a{l!="}"} unless on (l) group_left b offset 5m`,
		`foo{a=`, `"`, `${`, `[`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		refs, err := scanPromQL(expr)
		if err != nil {
			return
		}
		for _, m := range refs.metrics() {
			if m == "" || !isIdentStart(m[0]) {
				t.Fatalf("scanPromQL(%q) returned metric name %q", expr, m)
			}
		}
	})
}
