package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnvKey(t *testing.T) {
	tests := map[string]string{
		"SHOWCASE_HTTP__BODY_LIMIT":     "http.body_limit",
		"SHOWCASE_HTTP__TLS__CERT_FILE": "http.tls.cert_file",
		"SHOWCASE_DB__PASSWORD_FILE":    "db.password_file",
		"SHOWCASE_NAME":                 "name",
		"SHOWCASE_HTTP____X":            "http..x",
		"SHOWCASE_http__address":        "http.address",
		"SHOWCASE_":                     "",
	}
	for name, want := range tests {
		if got := envKey(name, "SHOWCASE_"); got != want {
			t.Errorf("envKey(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestEnvValue(t *testing.T) {
	tests := []struct {
		in   string
		typ  reflect.Type
		want any
	}{
		{"true", reflect.TypeFor[bool](), true},
		{"0", reflect.TypeFor[bool](), false},
		{"-7", reflect.TypeFor[int32](), int64(-7)},
		{"7", reflect.TypeFor[uint](), uint64(7)},
		{"1.5", reflect.TypeFor[float32](), 1.5},
		{" keep spaces ", reflect.TypeFor[string](), " keep spaces "},
		{"30s", durationType, "30s"},
		{"1 KiB", sizeType, "1 KiB"},
		{"a, b ,,c", reflect.TypeFor[[]string](), []any{"a", "b", "", "c"}},
		{"1,2", reflect.TypeFor[[]int](), []any{int64(1), int64(2)}},
		{"1KiB, 2MiB", reflect.TypeFor[[]Size](), []any{"1KiB", "2MiB"}},
		{"  ", reflect.TypeFor[[]string](), []any{}},
	}
	for _, tt := range tests {
		got, err := envValue(tt.in, tt.typ)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("envValue(%q, %s) = %#v, %v; want %#v", tt.in, tt.typ, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		in   string
		typ  reflect.Type
		want string
	}{
		{"yes", reflect.TypeFor[bool](), `invalid boolean "yes"`},
		{"1e3", reflect.TypeFor[int](), `invalid integer "1e3"`},
		{"-1", reflect.TypeFor[uint8](), `invalid integer "-1" (want a whole number between 0 and 255)`},
		{"256", reflect.TypeFor[uint8](), `invalid integer "256"`},
		{"x", reflect.TypeFor[float64](), `invalid number "x"`},
		{"1,x", reflect.TypeFor[[]int](), `item 2: invalid integer "x"`},
	} {
		if got, err := envValue(bad.in, bad.typ); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("envValue(%q, %s) = %#v, %v; want an error starting %q", bad.in, bad.typ, got, err, bad.want)
		}
	}
}

// FuzzEnv feeds arbitrary variable names and values to a full load: the
// loader must answer with a config or an error, never panic or hang.
func FuzzEnv(f *testing.F) {
	for _, seed := range [][2]string{
		{"SHOWCASE_NAME", "x"},
		{"SHOWCASE_HTTP__BODY_LIMIT", "12XB"},
		{"SHOWCASE_TAGS", " a, b ,"},
		{"SHOWCASE_LAYERS", "x"},
		{"SHOWCASE_LAYERS____ENV", "x"},
		{"SHOWCASE_", ""},
		{"SHOWCASE_CONFIG", ""},
		{"SHOWCASE_DB__PASSWORD_FILE", ""},
		{"SHOWCASE_SMALL", "-129"},
		{"SHOWCASE_WAIT", "1h1h1h"},
		{"SHOWCASE_RATIO", "NaN"},
		{"showcase_name", "x"},
	} {
		f.Add(seed[0], seed[1])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name, value string) {
		if strings.Contains(name, "=") {
			t.Skip("not a variable name")
		}
		if strings.HasSuffix(name, "_FILE") || strings.HasSuffix(name, "_CONFIG") {
			// These name files to read; keep the fuzzer off the real disk.
			value = dir
		}
		cfg := defaultTestConfig()
		eff, err := Loader{
			Service:    "showcase",
			Environ:    []string{name + "=" + value},
			ConfigHome: dir,
			ConfigDirs: []string{},
			WorkDir:    dir,
		}.Load(&cfg)
		if (eff == nil) == (err == nil) {
			t.Fatalf("Load = %v, %v; want exactly one of them", eff, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
