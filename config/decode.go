package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// decoderConfig is the one strict mapstructure setup used both to check each
// value on its own and to decode the merged result, so a value that passed
// the check cannot fail (or mean something else) in the final decode.
// WeaklyTypedInput stays off: a string "true" for a bool is an error, not a
// guess.
func decoderConfig() *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		TagName:     "koanf",
		DecodeHook:  strictHook,
		ErrorUnused: true,
		// Replace lists rather than write into the default's backing array.
		ZeroFields: true,
	}
}

// checkValue decodes one raw source value into a throwaway value of type t
// and reports why it does not fit.
func checkValue(raw any, t reflect.Type) error {
	dc := decoderConfig()
	dc.Result = reflect.New(t).Interface()
	d, err := mapstructure.NewDecoder(dc)
	if err == nil {
		err = d.Decode(raw)
	}
	if err != nil {
		return cleanError(err)
	}
	return nil
}

// valueError is a problem found by strictHook. Its message never contains
// the offending value unless the value was parsed (durations, sizes), so a
// mistyped secret is not echoed into logs.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// cleanError reduces mapstructure's report to the first problem, without
// its field-name decoration (the key is reported separately) but with the
// position of a bad list item.
func cleanError(err error) error {
	var ve *valueError
	if !errors.As(err, &ve) {
		return errors.New("invalid value")
	}
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		var i int
		if _, scanErr := fmt.Sscanf(de.Name(), "[%d]", &i); scanErr == nil {
			return fmt.Errorf("item %d: %w", i+1, ve)
		}
	}
	return ve
}

// strictHook checks every value against its target type before mapstructure
// converts it. mapstructure on its own truncates floats into integers,
// wraps integers that overflow and turns numbers into durations; each of
// those would make a config mean something other than what it says.
func strictHook(from, to reflect.Type, data any) (any, error) {
	fail := func(format string, args ...any) (any, error) {
		return nil, &valueError{fmt.Sprintf(format, args...)}
	}
	v := reflect.ValueOf(data)
	switch {
	case to == durationType:
		s, ok := data.(string)
		if isInt(from) {
			return fail("durations need a unit: write e.g. \"%ds\" instead of %d", v.Int(), v.Int())
		}
		if !ok {
			return fail("durations must be strings such as \"30s\", got %s", describe(from))
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fail("invalid duration %q (write e.g. \"30s\", \"5m\" or \"1h30m\")", s)
		}
		return d, nil
	case to == sizeType:
		switch {
		case from.Kind() == reflect.String:
			n, err := ParseSize(v.String())
			if err != nil {
				return fail("%v", err)
			}
			return n, nil
		case isInt(from) && v.Int() >= 0:
			return Size(v.Int()), nil
		case isUint(from) && v.Uint() <= math.MaxInt64:
			return Size(v.Uint()), nil
		}
		return fail("sizes must be strings such as \"10MiB\" or non-negative integers of bytes, got %s", describe(from))
	}
	if isText(to) {
		s, ok := data.(string)
		if !ok {
			return fail("expected a string, got %s", describe(from))
		}
		v := reflect.New(to)
		if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return fail("%v", err)
		}
		return v.Elem().Interface(), nil
	}
	switch {
	case to.Kind() == reflect.Bool && from.Kind() != reflect.Bool:
		return fail("expected a boolean, got %s", describe(from))
	case to.Kind() == reflect.String && from.Kind() != reflect.String:
		return fail("expected a string, got %s", describe(from))
	case to.Kind() == reflect.Slice && from.Kind() != reflect.Slice && from.Kind() != reflect.Array:
		return fail("expected a list, got %s", describe(from))
	case isInt(to) || isUint(to):
		if !fitsInteger(v, to) {
			return fail("expected an integer between %s, got %s", integerRange(to), describe(from))
		}
	case to.Kind() == reflect.Float32 || to.Kind() == reflect.Float64:
		if !isInt(from) && !isUint(from) && from.Kind() != reflect.Float32 && from.Kind() != reflect.Float64 {
			return fail("expected a number, got %s", describe(from))
		}
	}
	return data, nil
}

// fitsInteger reports whether v is an integer that to can hold exactly.
func fitsInteger(v reflect.Value, to reflect.Type) bool {
	probe := reflect.New(to).Elem()
	switch {
	case isInt(v.Type()) && isInt(to):
		return !probe.OverflowInt(v.Int())
	case isInt(v.Type()):
		return v.Int() >= 0 && !probe.OverflowUint(uint64(v.Int()))
	case isUint(v.Type()) && isInt(to):
		return v.Uint() <= math.MaxInt64 && !probe.OverflowInt(int64(v.Uint()))
	case isUint(v.Type()):
		return !probe.OverflowUint(v.Uint())
	}
	return false
}

func integerRange(t reflect.Type) string {
	if isUint(t) {
		return fmt.Sprintf("0 and %d", uint64(math.MaxUint64)>>(64-t.Bits()))
	}
	return fmt.Sprintf("%d and %d", int64(math.MinInt64)>>(64-t.Bits()), int64(math.MaxInt64)>>(64-t.Bits()))
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func isUint(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// describe names a source value's type in TOML's words, not Go's.
func describe(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "a boolean"
	case isInt(t) || isUint(t):
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a float"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "a list"
	case t.Kind() == reflect.Map:
		return "a table"
	}
	return "a date or time"
}
