package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// Section is a further top-level table of the config, decoded into a struct
// of its own: the service's own settings ([app]), loaded from the same
// sources in the same order and with the same strictness as Troupe's keys.
type Section struct {
	// Name is the table's key ("app"); the environment spells its keys
	// <PREFIX>APP__<KEY>.
	Name string
	// Into is a non-nil pointer to a struct whose koanf-tagged fields are
	// the section's keys. The values it holds when Load is called are the
	// defaults; fields tagged secret:"true" are redacted in the dump and
	// accept a <key>_file sibling, as Troupe's own secrets do.
	Into any
}

// combined is the value one load decodes into when there are sections: a
// struct type made for the load, with dst's exported fields followed by one
// field per section under its section's koanf tag. The schema, the decoding
// and the effective-config dump then treat the sections as the ordinary
// tables they are; copyBack moves the decoded values home.
type combined struct {
	value    reflect.Value // pointer to the made struct
	fields   []int         // index in dst of each of its leading fields
	sections []Section
}

// withSections makes the combined value, filled with dst's and the
// sections' current values: the defaults.
func withSections(dst reflect.Value, sections []Section) (*combined, error) {
	t := dst.Type()
	c := &combined{sections: sections}
	var fields []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // never config: the schema skips it too
		}
		if f.Anonymous {
			return nil, fmt.Errorf("config: sections need a destination without embedded fields; %s.%s is one", t, f.Name)
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
		c.fields = append(c.fields, i)
	}
	for i, s := range sections {
		v := reflect.ValueOf(s.Into)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("config: section %q needs a non-nil pointer to a struct, got %T", s.Name, s.Into)
		}
		if !validService(s.Name) {
			return nil, fmt.Errorf("config: invalid section name %q: want a lower-case letter followed by [a-z0-9_-]", s.Name)
		}
		fields = append(fields, reflect.StructField{
			Name: "Section" + strconv.Itoa(i),
			Type: v.Elem().Type(),
			Tag:  reflect.StructTag(`koanf:"` + s.Name + `"`),
		})
	}
	c.value = reflect.New(reflect.StructOf(fields))
	for j, i := range c.fields {
		c.value.Elem().Field(j).Set(dst.Field(i))
	}
	for i, s := range sections {
		c.value.Elem().Field(len(c.fields) + i).Set(reflect.ValueOf(s.Into).Elem())
	}
	return c, nil
}

// copyBack stores the decoded values in dst and the sections.
func (c *combined) copyBack(dst reflect.Value) {
	for j, i := range c.fields {
		dst.Field(i).Set(c.value.Elem().Field(j))
	}
	for i, s := range c.sections {
		reflect.ValueOf(s.Into).Elem().Set(c.value.Elem().Field(len(c.fields) + i))
	}
}

// validateSection runs the Validate method of a section's struct, when it
// has one, and names the keys of its problems under the section: a
// *Error or Errors with Key "seed_notes" becomes "app.seed_notes"; any other
// error is reported against the section itself.
func validateSection(s Section) error {
	v, ok := s.Into.(interface{ Validate() error })
	if !ok {
		return nil
	}
	err := v.Validate()
	if err == nil {
		return nil
	}
	var list Errors
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = Errors{one}
	default:
		return Errors{{Key: s.Name, Err: err}}
	}
	out := make(Errors, 0, len(list))
	for _, e := range list {
		if e == nil {
			continue
		}
		e := *e
		if e.Key == "" {
			e.Key = s.Name
		} else {
			e.Key = s.Name + "." + e.Key
		}
		out = append(out, &e)
	}
	return out
}
