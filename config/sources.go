package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	gotoml "github.com/pelletier/go-toml/v2"
)

// run is the state of one Load: the merged valid values, where each came
// from, and every problem found so far.
type run struct {
	schema  *schema
	merged  *koanf.Koanf
	sources map[string]string // key → source of its current value
	via     map[string]string // secret key → the _file key that filled it
	files   []string
	errs    Errors
}

func (r *run) fail(key, source string, err error) {
	r.errs = append(r.errs, &Error{Key: key, Source: source, Err: err})
}

// loadFile reads one TOML file. A missing file is skipped unless it was
// named explicitly; any other failure is reported and the file ignored, so
// that the remaining sources are still checked.
func (r *run) loadFile(c candidate) {
	k := koanf.New(".")
	err := k.Load(file.Provider(c.path), toml.Parser())
	var perr *fs.PathError
	var derr *gotoml.DecodeError
	switch {
	case errors.Is(err, fs.ErrNotExist) && !c.required:
		return
	case errors.Is(err, fs.ErrNotExist) && c.namedBy != "":
		r.fail("", c.path, fmt.Errorf("config file does not exist (named by %s)", c.namedBy))
		return
	case errors.Is(err, fs.ErrNotExist):
		r.fail("", c.path, errors.New("config file does not exist"))
		return
	case errors.As(err, &perr):
		r.fail("", c.path, fmt.Errorf("reading config file: %w", perr.Err))
		return
	case errors.As(err, &derr):
		row, col := derr.Position()
		r.fail("", c.path, fmt.Errorf("line %d, column %d: %w", row, col, derr))
		return
	case err != nil:
		r.fail("", c.path, err)
		return
	}
	r.files = append(r.files, c.path)
	values := k.All()
	sources := make(map[string]string, len(values))
	for key := range values {
		sources[key] = c.path
	}
	r.apply(values, sources)
}

// loadEnv reads the service's environment variables. Each value is first
// converted from a string to what TOML would have given for the key's type.
func (r *run) loadEnv(environ []string, prefix string) {
	values := map[string]any{}
	sources := map[string]string{}
	for _, v := range serviceEnv(environ, prefix) {
		key, source := envKey(v.name, prefix), "env "+v.name
		l := r.schema.leaves[key]
		if l == nil {
			r.fail(key, source, ErrUnknownKey)
			continue
		}
		if prev, dup := sources[key]; dup {
			r.fail(key, source, fmt.Errorf("also set by %s; set it once", prev))
			continue
		}
		sources[key] = source
		raw, err := envValue(v.value, l.typ)
		if err != nil {
			r.fail(key, source, err)
			continue
		}
		values[key] = raw
	}
	r.apply(values, sources)
}

// loadAliases reads the standard variables that some keys also answer to
// (OTEL_SERVICE_NAME sets telemetry.service_name), declared with an `env`
// struct tag. They rank between the files and the service's own variables:
// a deployment-wide OTEL_* setting beats a file, and ORDERS_* beats both.
// As the OpenTelemetry specification says, an empty value counts as unset.
func (r *run) loadAliases(environ []string) {
	values := map[string]any{}
	sources := map[string]string{}
	for _, key := range r.schema.keys {
		l := r.schema.leaves[key]
		if l.alias == "" {
			continue
		}
		value := lookupEnv(environ, l.alias)
		if value == "" {
			continue
		}
		source := "env " + l.alias
		sources[key] = source
		if l.millis {
			ms, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
				r.fail(key, source, fmt.Errorf("invalid duration %q (want whole milliseconds)", value))
				continue
			}
			values[key] = (time.Duration(ms) * time.Millisecond).String()
			continue
		}
		raw, err := envValue(value, l.typ)
		if err != nil {
			r.fail(key, source, err)
			continue
		}
		values[key] = raw
	}
	r.apply(values, sources)
}

// apply checks each value of one source against the schema on its own, so
// that a problem is reported with the source that caused it, and merges the
// values that pass. Failed values are left out: the lower layers' values
// stay in place, and the load fails anyway.
func (r *run) apply(values map[string]any, sources map[string]string) {
	valid := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(values)) {
		raw, source := values[key], sources[key]
		if r.schema.sections[key] {
			if m, ok := raw.(map[string]any); !ok || len(m) > 0 {
				r.fail(key, source, fmt.Errorf("expected a table of settings, got %s", describe(reflect.TypeOf(raw))))
			}
			continue
		}
		l := r.schema.leaves[key]
		if l == nil {
			r.fail(key, source, ErrUnknownKey)
			continue
		}
		if err := checkValue(raw, l.typ); err != nil {
			r.fail(key, source, err)
			continue
		}
		valid[key] = raw
		r.sources[key] = source
	}
	if len(valid) > 0 {
		// confmap only copies and unflattens; it cannot fail.
		_ = r.merged.Load(confmap.Provider(valid, "."), nil)
	}
}
