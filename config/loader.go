package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/adrg/xdg"
	"github.com/knadh/koanf/v2"
)

// Loader finds, merges, strictly decodes and validates a service's
// configuration. The zero value of every field except Service means "the
// real environment": tests and tools set them to stay hermetic.
type Loader struct {
	// Service names the config directory (<dir>/<Service>/config.toml) and
	// the environment prefix (see EnvPrefix). It must match [a-z][a-z0-9_-]*.
	Service string
	// File is an explicitly named config file (a --config flag). It replaces
	// ./config.toml and <PREFIX>_CONFIG, and must exist. "" means none.
	File string
	// Environ is the environment as "KEY=value" entries; nil means
	// os.Environ().
	Environ []string
	// ConfigHome is the user's config base directory; "" means
	// xdg.ConfigHome.
	ConfigHome string
	// ConfigDirs are the system config base directories, most important
	// first; nil means xdg.ConfigDirs.
	ConfigDirs []string
	// WorkDir is the directory searched for config.toml; "" means ".".
	WorkDir string
	// Sections are further top-level tables, each decoded into a struct of
	// its own (the service's own settings); their keys are checked, dumped
	// and validated like dst's.
	Sections []Section
	// Check, when set, runs after dst's Validate method, on the decoded
	// values, and its problems are treated the same way: each *Error whose
	// Key names a key gets that key's source, and problems about keys that
	// already failed to decode are dropped. The service checks its
	// subsystems' semantic rules here, which live in the packages that
	// implement them, so that one load reports every problem.
	Check func() error
}

// Load fills dst, a pointer to a struct already holding the defaults, from
// every source in precedence order: defaults, the XDG config dirs (the first
// listed wins), the XDG config home, ./config.toml (or the file named by
// <PREFIX>_CONFIG, or Loader.File), the standard variables some keys answer
// to (OTEL_*, declared by an `env` struct tag), then the <PREFIX>_*
// environment. Every problem in
// every source is collected and returned together as Errors; on error dst
// may hold a partial result and must not be used. When dst has a
// Validate() error method it runs last, and the keys its errors name are
// attributed to the source that set them. A dst that is not a pointer to a
// struct the loader can describe (every exported field tagged, leaves of
// supported types) is a programming error, returned as a plain error.
func (l Loader) Load(dst any) (*Effective, error) {
	if !validService(l.Service) {
		return nil, Errors{{Err: fmt.Errorf("invalid service name %q: want a lower-case letter followed by [a-z0-9_-]", l.Service)}}
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: Load needs a non-nil pointer to a struct, got %T", dst)
	}
	target := rv
	var sections *combined
	if len(l.Sections) > 0 {
		c, err := withSections(rv.Elem(), l.Sections)
		if err != nil {
			return nil, err
		}
		target, sections = c.value, c
	}
	sch, err := newSchema(target.Elem().Type())
	if err != nil {
		return nil, err
	}
	environ := l.Environ
	if environ == nil {
		environ = os.Environ()
	}

	r := &run{schema: sch, merged: koanf.New("."), sources: map[string]string{}, via: map[string]string{}}
	for _, f := range l.files(environ) {
		r.loadFile(f)
	}
	r.loadAliases(environ)
	r.loadEnv(environ, EnvPrefix(l.Service))
	r.resolveSecrets()
	if err := r.merged.UnmarshalWithConf("", target.Interface(), koanf.UnmarshalConf{DecoderConfig: decoderConfig()}); err != nil {
		// Every value was checked on its own already; reaching this is a bug.
		r.errs = append(r.errs, &Error{Err: fmt.Errorf("decoding the merged config: %w", err)})
	}
	eff := r.effective(target.Elem())
	if sections != nil {
		sections.copyBack(rv.Elem())
	}
	if v, ok := dst.(interface{ Validate() error }); ok {
		r.addValidation(v.Validate(), eff)
	}
	for _, s := range l.Sections {
		r.addValidation(validateSection(s), eff)
	}
	if l.Check != nil {
		r.addValidation(l.Check(), eff)
	}
	if len(r.errs) > 0 {
		r.errs.sort()
		return nil, r.errs
	}
	return eff, nil
}

// candidate is a config file that may be loaded.
type candidate struct {
	path     string
	required bool   // explicitly named: missing is an error
	namedBy  string // the variable that named it, for the error message
}

// files lists the config files to try, lowest precedence first, without
// duplicates (a directory may appear both as ConfigHome and in ConfigDirs).
func (l Loader) files(environ []string) []candidate {
	home, dirs, work := l.ConfigHome, l.ConfigDirs, l.WorkDir
	if home == "" {
		home = xdg.ConfigHome
	}
	if dirs == nil {
		dirs = xdg.ConfigDirs
	}
	if work == "" {
		work = "."
	}
	var out []candidate
	// XDG lists the most important directory first; later loads win, so
	// walk the list backwards.
	for i := len(dirs) - 1; i >= 0; i-- {
		if dirs[i] != "" {
			out = append(out, candidate{path: filepath.Join(dirs[i], l.Service, "config.toml")})
		}
	}
	if home != "" {
		out = append(out, candidate{path: filepath.Join(home, l.Service, "config.toml")})
	}
	envName := EnvPrefix(l.Service) + "CONFIG"
	switch named := lookupEnv(environ, envName); {
	case l.File != "":
		out = append(out, candidate{path: filepath.Clean(l.File), required: true})
	case named != "":
		out = append(out, candidate{path: filepath.Clean(named), required: true, namedBy: envName})
	default:
		out = append(out, candidate{path: filepath.Join(work, "config.toml")})
	}
	return dedupe(out)
}

// dedupe keeps the highest-precedence occurrence of each path; loading one
// file twice changes nothing but the list of files read.
func dedupe(cs []candidate) []candidate {
	last := map[string]int{}
	for i, c := range cs {
		last[c.path] = i
	}
	out := cs[:0:0]
	for i, c := range cs {
		if last[c.path] == i {
			out = append(out, c)
		}
	}
	return out
}

// validService reports whether name matches [a-z][a-z0-9_-]*: it becomes a
// directory name and an environment prefix, so it must be safe as both.
func validService(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// addValidation merges the errors of a Validate method into the run,
// naming the source of each key, and drops those about keys that already
// failed to decode: their value is a default the operator did not choose.
func (r *run) addValidation(err error, eff *Effective) {
	if err == nil {
		return
	}
	var list Errors
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = Errors{one}
	default:
		list = Errors{{Err: err}}
	}
	failed := map[string]bool{}
	for _, e := range r.errs {
		failed[e.Key] = true
	}
	for _, e := range list {
		if e == nil || (e.Key != "" && failed[e.Key]) {
			continue
		}
		e := *e
		if e.Source == "" {
			e.Source = eff.Source(e.Key)
		}
		r.errs = append(r.errs, &e)
	}
}
