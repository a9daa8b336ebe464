package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Key describes one key a destination struct accepts, as the loader sees
// it: tools such as `troupe config schema` build on it instead of walking
// the struct's tags a second time.
type Key struct {
	// Name is the dotted key, e.g. "http.body_limit".
	Name string
	// Type is the Go type of the field; time.Duration and Size are
	// written as strings ("30s", "10MiB"). A "<key>_file" sibling is a
	// string.
	Type reflect.Type
	// Default is the value dst held, rendered as TOML exactly as the
	// effective-config dump writes it ("\"30s\"", "true", "[\"a\", \"b\"]");
	// a secret's default is never shown, only whether it is set.
	Default string
	// Secret marks a value that is redacted when printed.
	Secret bool
	// FileOf is, for a "<key>_file" sibling, the secret key whose value the
	// named file holds; "" for every other key.
	FileOf string
	// Alias is a standard variable (OTEL_*) that also sets the key, ranked
	// between the files and the service's own variables; "" for none.
	Alias string
	// AliasMillis says the alias gives a duration as whole milliseconds.
	AliasMillis bool
}

// EnvVar returns the variable of the service's own environment that sets
// the key: EnvPrefix(service) followed by the key's segments, upper-cased
// and joined by "__" (ORDERS_HTTP__BODY_LIMIT).
func (k Key) EnvVar(service string) string {
	return EnvPrefix(service) + strings.ToUpper(strings.ReplaceAll(k.Name, ".", envSegmentSep))
}

// Describe lists every key dst accepts — its leaves and the "<key>_file"
// siblings of its secrets — sorted by name, with the values dst holds as
// defaults. dst is what Loader.Load takes: a non-nil pointer to a struct
// whose exported fields all carry koanf tags. Sections (the service's own
// [app]) are described by passing them too, as the loader would load them.
func Describe(dst any, sections ...Section) ([]Key, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: Describe needs a non-nil pointer to a struct, got %T", dst)
	}
	if len(sections) > 0 {
		c, err := withSections(rv.Elem(), sections)
		if err != nil {
			return nil, err
		}
		rv = c.value
	}
	sch, err := newSchema(rv.Elem().Type())
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(sch.leaves))
	for _, name := range sch.keys {
		l := sch.leaves[name]
		keys = append(keys, Key{
			Name:        name,
			Type:        l.typ,
			Default:     renderValue(rv.Elem().FieldByIndex(l.index), l.secret),
			Secret:      l.secret,
			Alias:       l.alias,
			AliasMillis: l.millis,
		})
		if l.secret {
			file := sch.leaves[name+secretFileSuffix]
			keys = append(keys, Key{Name: file.key, Type: file.typ, Default: `""`, FileOf: name})
		}
	}
	return keys, nil
}
