package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// envSegmentSep separates key path segments in an environment variable
// name. A single "_" cannot do it because keys themselves contain "_".
const envSegmentSep = "__"

// EnvPrefix returns the environment variable prefix of a service: its name
// upper-cased with every character other than A-Z and 0-9 replaced by "_",
// followed by "_". EnvPrefix("showcase") is "SHOWCASE_"; EnvPrefix("my-svc")
// is "MY_SVC_".
func EnvPrefix(service string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(service) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	return b.String()
}

// envVar is one environment variable that belongs to the service.
type envVar struct{ name, value string }

// serviceEnv returns the variables in environ that carry prefix, in order
// of first appearance, except <prefix>CONFIG, which names a file rather than
// setting a key. A variable listed twice keeps its last value, as it does
// when a shell exports it twice.
func serviceEnv(environ []string, prefix string) []envVar {
	var out []envVar
	seen := map[string]int{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, prefix) || name == prefix+"CONFIG" {
			continue
		}
		if i, dup := seen[name]; dup {
			out[i].value = value
			continue
		}
		seen[name] = len(out)
		out = append(out, envVar{name, value})
	}
	return out
}

// lookupEnv returns the value of name in environ; the last definition wins,
// as in serviceEnv.
func lookupEnv(environ []string, name string) string {
	var value string
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			value = v
		}
	}
	return value
}

// envKey maps a variable name to its key: SHOWCASE_HTTP__BODY_LIMIT is
// http.body_limit.
func envKey(name, prefix string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, prefix)), envSegmentSep, ".")
}

// envValue converts an environment string to the raw value a TOML file
// would have given for a field of type t, so that both sources then go
// through the same strict decoding. Durations and sizes stay strings: the
// decode hook parses them for every source alike. Lists are comma-separated,
// with the spaces around each item trimmed; an empty string is an empty list.
func envValue(s string, t reflect.Type) (any, error) {
	if t == durationType || t == sizeType {
		return s, nil
	}
	switch {
	case t.Kind() == reflect.Slice:
		items := []any{}
		if strings.TrimSpace(s) == "" {
			return items, nil
		}
		for item := range strings.SplitSeq(s, ",") {
			v, err := envValue(strings.TrimSpace(item), t.Elem())
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", len(items)+1, err)
			}
			items = append(items, v)
		}
		return items, nil
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("invalid boolean %q (use true or false)", s)
		}
		return b, nil
	case isInt(t):
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("invalid integer %q (want a whole number between %s)", s, integerRange(t))
		}
		return n, nil
	case isUint(t):
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("invalid integer %q (want a whole number between %s)", s, integerRange(t))
		}
		return n, nil
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", s)
		}
		return f, nil
	}
	return s, nil
}
