package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// secretFileSuffix turns a secret key into the sibling key that names a file
// holding the secret, so secrets can come from mounted files (Kubernetes,
// Docker, systemd credentials) instead of the environment.
const secretFileSuffix = "_file"

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

// leaf is one settable key of the schema.
type leaf struct {
	key    string
	index  []int        // path of field indexes from the root struct
	typ    reflect.Type // the field's type; string for a secret's _file key
	secret bool         // the value must never be printed
	fileOf string       // for "<key>_file": the secret key it fills
	alias  string       // a standard variable (OTEL_*) that also sets the key
	millis bool         // the alias gives a duration as whole milliseconds
}

// schema is the set of valid keys and their Go types, derived from the
// destination struct's koanf tags so that the struct is the only place a
// key is declared.
type schema struct {
	leaves   map[string]*leaf // every accepted key, _file siblings included
	sections map[string]bool  // keys that name a nested struct
	keys     []string         // the struct's own leaf keys, sorted
}

// newSchema walks t, which must be a struct type. Untagged exported fields
// are rejected rather than skipped: a field that looks like config but is
// never loaded is a bug that should fail loudly on the first run.
func newSchema(t reflect.Type) (*schema, error) {
	s := &schema{leaves: map[string]*leaf{}, sections: map[string]bool{}}
	if err := s.walk(t, "", nil); err != nil {
		return nil, err
	}
	for k, l := range s.leaves {
		if l.fileOf == "" {
			s.keys = append(s.keys, k)
		}
	}
	slices.Sort(s.keys)
	return s, nil
}

func (s *schema) walk(t reflect.Type, prefix string, index []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if name == "-" {
			continue
		}
		if name == "" || strings.Contains(name, ".") {
			return fmt.Errorf("config: field %s.%s needs a koanf tag without dots (use `koanf:\"-\"` to exclude it)", t, f.Name)
		}
		key := prefix + name
		idx := append(slices.Clip(index), i)
		if f.Type.Kind() == reflect.Struct && !isText(f.Type) {
			if err := s.add(key, nil); err != nil {
				return err
			}
			if err := s.walk(f.Type, key+".", idx); err != nil {
				return err
			}
			continue
		}
		if !supportedLeaf(f.Type) {
			return fmt.Errorf("config: field %s.%s (%s) has an unsupported type %s", t, f.Name, key, f.Type)
		}
		l := &leaf{key: key, index: idx, typ: f.Type, secret: f.Tag.Get("secret") == "true"}
		if alias := f.Tag.Get("env"); alias != "" {
			l.alias, l.millis = strings.CutSuffix(alias, ",ms")
			if l.millis && f.Type != durationType {
				return fmt.Errorf("config: field %s.%s (%s) has an env alias in milliseconds but is not a duration", t, f.Name, key)
			}
		}
		if err := s.add(key, l); err != nil {
			return err
		}
		if l.secret {
			if f.Type.Kind() != reflect.String {
				return fmt.Errorf("config: field %s.%s (%s) is tagged secret but is not a string", t, f.Name, key)
			}
			file := &leaf{key: key + secretFileSuffix, typ: reflect.TypeFor[string](), fileOf: key}
			if err := s.add(file.key, file); err != nil {
				return err
			}
		}
	}
	return nil
}

// add registers key as a leaf, or as a section when l is nil.
func (s *schema) add(key string, l *leaf) error {
	if s.leaves[key] != nil || s.sections[key] {
		return fmt.Errorf("config: key %q is declared twice", key)
	}
	if l == nil {
		s.sections[key] = true
	} else {
		s.leaves[key] = l
	}
	return nil
}

// supportedLeaf reports whether values of t can be written in TOML and in
// an environment variable: scalars, durations, sizes, values parsed from
// text (RouteLimit) and lists of those.
func supportedLeaf(t reflect.Type) bool {
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if isText(t) {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}
