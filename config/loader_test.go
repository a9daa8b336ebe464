package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testConfig exercises every kind of leaf the loader supports.
type testConfig struct {
	Name   string        `koanf:"name"`
	Port   int           `koanf:"port"`
	Small  int8          `koanf:"small"`
	Count  uint16        `koanf:"count"`
	Debug  bool          `koanf:"debug"`
	Ratio  float64       `koanf:"ratio"`
	Tags   []string      `koanf:"tags"`
	Wait   time.Duration `koanf:"wait"`
	Limit  Size          `koanf:"limit"`
	Layers struct {
		Default string `koanf:"default"`
		Sys2    string `koanf:"sys2"`
		Sys1    string `koanf:"sys1"`
		Home    string `koanf:"home"`
		Work    string `koanf:"work"`
		Env     string `koanf:"env"`
	} `koanf:"layers"`
	DB struct {
		User     string `koanf:"user"`
		Password string `koanf:"password" secret:"true"`
	} `koanf:"db"`
	Ignored string `koanf:"-"`
	//lint:ignore U1000 present to prove unexported fields are skipped
	hidden string
}

func defaultTestConfig() testConfig {
	var c testConfig
	c.Name = "svc"
	c.Port = 8080
	c.Tags = []string{"a", "b"}
	c.Wait = time.Second
	c.Limit = MiB
	c.Layers.Default = "default"
	c.Layers.Sys2 = "default"
	c.Layers.Sys1 = "default"
	c.Layers.Home = "default"
	c.Layers.Work = "default"
	c.Layers.Env = "default"
	return c
}

// layout is a hermetic set of config locations: two system dirs, a home
// and a work dir, all empty until a test writes to them.
type layout struct {
	t                      *testing.T
	sys1, sys2, home, work string
}

func newLayout(t *testing.T) *layout {
	t.Helper()
	root := t.TempDir()
	l := &layout{t: t}
	for _, p := range []*string{&l.sys1, &l.sys2, &l.home, &l.work} {
		*p = must(os.MkdirTemp(root, "dir"))
	}
	return l
}

// serviceFile writes <dir>/showcase/config.toml.
func (l *layout) serviceFile(dir, content string) string {
	return l.write(filepath.Join(dir, "showcase", "config.toml"), content)
}

func (l *layout) write(path, content string) string {
	l.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		l.t.Fatal(err)
	}
	return path
}

func (l *layout) loader(environ ...string) Loader {
	return Loader{
		Service:    "showcase",
		Environ:    append([]string{}, environ...),
		ConfigHome: l.home,
		ConfigDirs: []string{l.sys1, l.sys2},
		WorkDir:    l.work,
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// loadErrors loads into a fresh testConfig and returns the problems found.
func loadErrors(t *testing.T, ld Loader) Errors {
	t.Helper()
	cfg := defaultTestConfig()
	return loadErrorsInto(t, ld, &cfg)
}

// loadErrorsInto loads into dst and returns the problems found.
func loadErrorsInto(t *testing.T, ld Loader, dst any) Errors {
	t.Helper()
	_, err := ld.Load(dst)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error = %v, want Errors", err)
	}
	return errs
}

func TestLoadPrecedence(t *testing.T) {
	l := newLayout(t)
	sys2 := l.serviceFile(l.sys2, "[layers]\nsys2='sys2'\nsys1='sys2'\nhome='sys2'\nwork='sys2'\nenv='sys2'\n")
	sys1 := l.serviceFile(l.sys1, "[layers]\nsys1='sys1'\nhome='sys1'\nwork='sys1'\nenv='sys1'\n")
	home := l.serviceFile(l.home, "[layers]\nhome='home'\nwork='home'\nenv='home'\n")
	work := l.write(filepath.Join(l.work, "config.toml"), "[layers]\nwork='work'\nenv='work'\n")

	cfg := defaultTestConfig()
	eff, err := l.loader("SHOWCASE_LAYERS__ENV=env", "OTHER_LAYERS__ENV=ignored").Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.Layers.Default, cfg.Layers.Sys2, cfg.Layers.Sys1, cfg.Layers.Home, cfg.Layers.Work, cfg.Layers.Env}
	if want := []string{"default", "sys2", "sys1", "home", "work", "env"}; !slices.Equal(got, want) {
		t.Errorf("layer values = %q, want %q", got, want)
	}
	sources := map[string]string{
		"layers.default": "default",
		"layers.sys2":    sys2,
		"layers.sys1":    sys1,
		"layers.home":    home,
		"layers.work":    work,
		"layers.env":     "env SHOWCASE_LAYERS__ENV",
		"no.such.key":    "",
	}
	for key, want := range sources {
		if got := eff.Source(key); got != want {
			t.Errorf("Source(%q) = %q, want %q", key, got, want)
		}
	}
	if got, want := eff.Files(), []string{sys2, sys1, home, work}; !slices.Equal(got, want) {
		t.Errorf("Files() = %q, want %q (lowest precedence first)", got, want)
	}
}

func TestLoadFileSelection(t *testing.T) {
	l := newLayout(t)
	l.write(filepath.Join(l.work, "config.toml"), "name = 'workdir'")
	fromEnv := l.write(filepath.Join(l.work, "env.toml"), "name = 'env-named'")
	explicit := l.write(filepath.Join(l.work, "explicit.toml"), "name = 'explicit'")
	tests := []struct {
		name    string
		file    string
		environ []string
		want    string
	}{
		{"work dir", "", nil, "workdir"},
		{"empty CONFIG is unset", "", []string{"SHOWCASE_CONFIG="}, "workdir"},
		{"CONFIG replaces work dir", "", []string{"SHOWCASE_CONFIG=" + fromEnv}, "env-named"},
		{"File replaces work dir", explicit, nil, "explicit"},
		{"File beats CONFIG", explicit, []string{"SHOWCASE_CONFIG=" + fromEnv}, "explicit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := l.loader(tt.environ...)
			ld.File = tt.file
			cfg := defaultTestConfig()
			eff, err := ld.Load(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Name != tt.want {
				t.Errorf("name = %q, want %q", cfg.Name, tt.want)
			}
			if len(eff.Files()) != 1 {
				t.Errorf("Files() = %q, want exactly one file", eff.Files())
			}
		})
	}
}

func TestLoadMissingFiles(t *testing.T) {
	l := newLayout(t)
	missing := filepath.Join(l.work, "nope.toml")

	cfg := defaultTestConfig()
	eff, err := l.loader().Load(&cfg)
	if err != nil {
		t.Fatalf("implicit files are optional: Load = %v", err)
	}
	if len(eff.Files()) != 0 {
		t.Errorf("Files() = %q, want none", eff.Files())
	}

	ld := l.loader()
	ld.File = missing
	errs := loadErrors(t, ld)
	if want := "config: " + missing + ": config file does not exist"; errs.Error() != want {
		t.Errorf("explicit File: %q, want %q", errs, want)
	}

	errs = loadErrors(t, l.loader("SHOWCASE_CONFIG="+missing))
	if want := "config: " + missing + ": config file does not exist (named by SHOWCASE_CONFIG)"; errs.Error() != want {
		t.Errorf("SHOWCASE_CONFIG: %q, want %q", errs, want)
	}

	ld = l.loader()
	ld.File = l.work // a directory, not a file
	errs = loadErrors(t, ld)
	if !strings.Contains(errs.Error(), l.work+": reading config file: ") {
		t.Errorf("directory as config file: %q", errs)
	}
}

func TestLoadDeduplicatesFiles(t *testing.T) {
	l := newLayout(t)
	home := l.serviceFile(l.home, "name = 'home'")
	ld := l.loader()
	ld.ConfigDirs = []string{l.home}
	cfg := defaultTestConfig()
	eff, err := ld.Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := eff.Files(); !slices.Equal(got, []string{home}) {
		t.Errorf("Files() = %q, want the shared file once", got)
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	l := newLayout(t)
	file := l.serviceFile(l.home, "[layers]\nhoem = 'x'\n[extra]\n[db.password]\n")
	errs := loadErrors(t, l.loader("SHOWCASE_LAYERS__WROK=x", "SHOWCASE_=x", "SHOWCASE_LAYERS=x"))
	want := []string{
		`db.password (from ` + file + `): expected a string, got a table`,
		`unknown key "" in env SHOWCASE_`,
		`unknown key "extra" in ` + file,
		`unknown key "layers" in env SHOWCASE_LAYERS`,
		`unknown key "layers.hoem" in ` + file,
		`unknown key "layers.wrok" in env SHOWCASE_LAYERS__WROK`,
	}
	assertProblems(t, errs, want)
	for _, e := range errs[1:] {
		if !errors.Is(e, ErrUnknownKey) {
			t.Errorf("%q does not wrap ErrUnknownKey", e)
		}
	}
}

func TestLoadMalformedValues(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		environ []string
		want    string // the problem, without the source
	}{
		{"file duration", "wait = 'soon'", nil, `wait: invalid duration "soon"`},
		{"file integer duration", "wait = 30", nil, `wait: durations need a unit: write e.g. "30s" instead of 30`},
		{"file float duration", "wait = 1.5", nil, `wait: durations must be strings such as "30s", got a float`},
		{"file size", "limit = '12XB'", nil, `limit: invalid size "12XB": unknown unit "XB"`},
		{"file negative size", "limit = -1", nil, `limit: sizes must be strings such as "10MiB" or non-negative integers of bytes, got an integer`},
		{"file bool string", "debug = 'true'", nil, "debug: expected a boolean, got a string"},
		{"file string for int", "port = '80'", nil, "port: expected an integer between"},
		{"file float for int", "port = 80.5", nil, "port: expected an integer between"},
		{"file int overflow", "small = 300", nil, "small: expected an integer between -128 and 127, got an integer"},
		{"file negative uint", "count = -1", nil, "count: expected an integer between 0 and 65535"},
		{"file string for float", "ratio = 'x'", nil, "ratio: expected a number, got a string"},
		{"file scalar for list", "tags = 'a'", nil, "tags: expected a list, got a string"},
		{"file bad list item", "tags = ['a', 2]", nil, "tags: item 2: expected a string, got an integer"},
		{"file int for string", "name = 1", nil, "name: expected a string, got an integer"},
		{"file date for string", "name = 1979-05-27", nil, "name: expected a string, got a date or time"},
		{"file scalar for section", "layers = 1", nil, "layers: expected a table of settings, got an integer"},
		{"env duration", "", []string{"SHOWCASE_WAIT=30"}, `wait: invalid duration "30"`},
		{"env size", "", []string{"SHOWCASE_LIMIT=12XB"}, `limit: invalid size "12XB": unknown unit "XB"`},
		{"env bool", "", []string{"SHOWCASE_DEBUG=yes"}, `debug: invalid boolean "yes"`},
		{"env int", "", []string{"SHOWCASE_PORT=80x"}, `port: invalid integer "80x"`},
		{"env int overflow", "", []string{"SHOWCASE_SMALL=300"}, `small: invalid integer "300" (want a whole number between -128 and 127)`},
		{"env float", "", []string{"SHOWCASE_RATIO=half"}, `ratio: invalid number "half"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			source := ""
			if tt.file != "" {
				source = "(from " + l.serviceFile(l.home, tt.file) + ")"
			} else {
				name, _, _ := strings.Cut(tt.environ[0], "=")
				source = "(from env " + name + ")"
			}
			errs := loadErrors(t, l.loader(tt.environ...))
			if len(errs) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(errs), errs)
			}
			key, rest, _ := strings.Cut(tt.want, ": ")
			if want := key + " " + source + ": " + rest; !strings.HasPrefix(errs[0].Error(), want) {
				t.Errorf("problem = %q\nwant prefix %q", errs[0], want)
			}
		})
	}
}

func TestLoadTOMLSyntaxError(t *testing.T) {
	l := newLayout(t)
	file := l.serviceFile(l.home, "name = 'ok'\nport = = 1\n")
	errs := loadErrors(t, l.loader())
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), file+": line 2, column ") {
		t.Errorf("syntax error = %v, want it to name %s and line 2", errs, file)
	}
}

func TestLoadReportsEveryProblemTogether(t *testing.T) {
	l := newLayout(t)
	sys := l.serviceFile(l.sys1, "port = 'x'\n")
	home := l.serviceFile(l.home, "nmae = 'x'\nwait = 5\n")
	bad := filepath.Join(l.work, "missing-secret")
	errs := loadErrors(t, l.loader("SHOWCASE_LIMIT=lots", "SHOWCASE_DB__PASSWORD_FILE="+bad, "SHOWCASE_DEBUG=1"))
	assertProblems(t, errs, []string{
		"db.password_file (from env SHOWCASE_DB__PASSWORD_FILE): reading secret file: open " + bad + ": no such file or directory",
		`limit (from env SHOWCASE_LIMIT): invalid size "lots": must start with a non-negative whole number`,
		"port (from " + sys + "): expected an integer between -9223372036854775808 and 9223372036854775807, got a string",
		`unknown key "nmae" in ` + home,
		`wait (from ` + home + `): durations need a unit: write e.g. "5s" instead of 5`,
	})
}

func TestLoadEnvValues(t *testing.T) {
	l := newLayout(t)
	cfg := defaultTestConfig()
	_, err := l.loader(
		"SHOWCASE_TAGS= x , y,z ",
		"SHOWCASE_DEBUG=1",
		"SHOWCASE_PORT=-3",
		"SHOWCASE_COUNT=65535",
		"SHOWCASE_RATIO=0.25",
		"SHOWCASE_WAIT=1m30s",
		"SHOWCASE_LIMIT=2 KiB",
		"SHOWCASE_NAME=a=b",
		"SHOWCASE_CONFIG=",
		"NOT_AN_ASSIGNMENT",
	).Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Tags, []string{"x", "y", "z"}) || !cfg.Debug || cfg.Port != -3 || cfg.Count != 65535 ||
		cfg.Ratio != 0.25 || cfg.Wait != 90*time.Second || cfg.Limit != 2*KiB || cfg.Name != "a=b" {
		t.Errorf("decoded %+v", cfg)
	}

	cfg = defaultTestConfig()
	if _, err := l.loader("SHOWCASE_TAGS=").Load(&cfg); err != nil || cfg.Tags == nil || len(cfg.Tags) != 0 {
		t.Errorf("empty list variable: tags = %#v, %v; want an empty list", cfg.Tags, err)
	}
}

func TestLoadEnvRepeats(t *testing.T) {
	l := newLayout(t)
	cfg := defaultTestConfig()
	if _, err := l.loader("SHOWCASE_NAME=first", "SHOWCASE_NAME=last").Load(&cfg); err != nil || cfg.Name != "last" {
		t.Errorf("repeated variable: name = %q, %v; want the last value", cfg.Name, err)
	}
	errs := loadErrors(t, l.loader("SHOWCASE_NAME=upper", "SHOWCASE_name=lower"))
	assertProblems(t, errs, []string{"name (from env SHOWCASE_name): also set by env SHOWCASE_NAME; set it once"})
}

func TestLoadKeepsDefaultsIntact(t *testing.T) {
	l := newLayout(t)
	l.serviceFile(l.home, "tags = ['z']")
	shared := []string{"a", "b"}
	cfg := defaultTestConfig()
	cfg.Tags = shared
	if _, err := l.loader().Load(&cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Tags, []string{"z"}) || !slices.Equal(shared, []string{"a", "b"}) {
		t.Errorf("tags = %q, shared default now %q; want [z] and an untouched default", cfg.Tags, shared)
	}
}

func TestLoadRejectsMisuse(t *testing.T) {
	l := newLayout(t)
	var untagged struct{ Name string }
	var pointer struct {
		P *int `koanf:"p"`
	}
	var notString struct {
		N int `koanf:"n" secret:"true"`
	}
	var clash struct {
		S string `koanf:"s" secret:"true"`
		F string `koanf:"s_file"`
	}
	var millis struct {
		N int `koanf:"n" env:"OTEL_N,ms"`
	}
	cfg := defaultTestConfig()
	tests := []struct {
		name    string
		service string
		dst     any
		want    string
	}{
		{"empty service", "", &cfg, `config: invalid service name ""`},
		{"upper-case service", "Showcase", &cfg, `config: invalid service name "Showcase"`},
		{"service with slash", "a/b", &cfg, `config: invalid service name "a/b"`},
		{"non-pointer", "showcase", cfg, "needs a non-nil pointer to a struct"},
		{"nil pointer", "showcase", (*testConfig)(nil), "needs a non-nil pointer to a struct"},
		{"untagged field", "showcase", &untagged, "needs a koanf tag"},
		{"pointer field", "showcase", &pointer, "unsupported type *int"},
		{"secret int", "showcase", &notString, "tagged secret but is not a string"},
		{"key clash", "showcase", &clash, `key "s_file" is declared twice`},
		{"millisecond alias of an int", "showcase", &millis, "env alias in milliseconds but is not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := l.loader()
			ld.Service = tt.service
			eff, err := ld.Load(tt.dst)
			if err == nil || eff != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, %v; want an error containing %q", eff, err, tt.want)
			}
		})
	}
}

func TestEnvPrefix(t *testing.T) {
	tests := map[string]string{
		"showcase": "SHOWCASE_",
		"my-svc":   "MY_SVC_",
		"a_b9":     "A_B9_",
		"café":     "CAF__",
		"":         "_",
	}
	for in, want := range tests {
		if got := EnvPrefix(in); got != want {
			t.Errorf("EnvPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// assertProblems compares the rendered problems with want, in order.
func assertProblems(t *testing.T, errs Errors, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
