package wasm

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = `
[component]
name = "echo"
version = "0.1.0"
wasm = "echo.wasm"
`

func TestLoadManifestGood(t *testing.T) {
	m, err := LoadManifest(filepath.Join("testdata", "good", "Component.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Component.Name != "summarizer" || m.Component.Version != "1.2.0" {
		t.Errorf("component = %+v", m.Component)
	}
	if want := filepath.Join("testdata", "good", "build", "summarizer.wasm"); m.WASMPath() != want {
		t.Errorf("WASMPath = %q, want %q", m.WASMPath(), want)
	}
	want := RuntimeSection{
		MaxMemoryMB:           32,
		MaxCPUCores:           DefaultMaxCPUCores,
		MessageQueueSize:      DefaultMessageQueueSize,
		MessageTimeoutMS:      2000,
		HealthCheckIntervalMS: DefaultHealthCheckIntervalMS,
	}
	if m.Runtime != want {
		t.Errorf("runtime = %+v, want %+v", m.Runtime, want)
	}
	if !m.Monitoring.EnableMetrics || m.Monitoring.EnableTracing || m.Monitoring.LogLevel != "debug" {
		t.Errorf("monitoring = %+v", m.Monitoring)
	}
	if len(m.Caps.Capabilities()) != 5 || !m.Caps.AllowsKV(true, "notes") || !m.Caps.AllowsActor("send", "billing") {
		t.Errorf("caps = %v", m.Caps.Capabilities())
	}
	if err := m.VerifySHA256([]byte("123")); err != nil {
		t.Errorf("VerifySHA256(matching) = %v", err)
	}
	if err := m.VerifySHA256([]byte("124")); !errors.Is(err, ErrSHA256Mismatch) {
		t.Errorf("VerifySHA256(other) = %v, want ErrSHA256Mismatch", err)
	}
}

func TestLoadManifestErrors(t *testing.T) {
	tests := []struct {
		file, want string
		is         error
	}{
		{"unknown_key.toml", "runtime.max_memry_mb: unknown key", ErrUnknownKey},
		{"bad_sha256.toml", "component.sha256:", nil},
		{"missing.toml", "no such file", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join("testdata", tt.file)
			_, err := LoadManifest(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), p+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want prefix %q and %q", err, p, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}

func TestLoadManifestTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Component.toml")
	if err := os.WriteFile(p, []byte(minimal+"#"+strings.Repeat("x", MaxManifestSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManifest(p); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("err = %v, want size error", err)
	}
}

func TestParseManifestDefaults(t *testing.T) {
	m, err := ParseManifest([]byte(minimal), "/srv/echo")
	if err != nil {
		t.Fatal(err)
	}
	want := RuntimeSection{DefaultMaxMemoryMB, DefaultMaxCPUCores, DefaultMessageQueueSize, DefaultMessageTimeoutMS, DefaultHealthCheckIntervalMS}
	if m.Runtime != want {
		t.Errorf("runtime = %+v, want %+v", m.Runtime, want)
	}
	if m.Monitoring.LogLevel != DefaultLogLevel || m.WASMPath() != "/srv/echo/echo.wasm" {
		t.Errorf("log level %q, wasm path %q", m.Monitoring.LogLevel, m.WASMPath())
	}
	if err := m.VerifySHA256([]byte("anything")); err != nil {
		t.Errorf("VerifySHA256 without a pin = %v", err)
	}
	if m.Caps.AllowsKV(false, "notes") || m.Caps.FileMounts() != nil {
		t.Error("a manifest without capabilities grants something")
	}
}

// TestParseManifestRules feeds one bad line at a time and checks the error
// names the key and says why.
func TestParseManifestRules(t *testing.T) {
	comp := func(name, version, wasm string) string {
		return "[component]\nname = " + name + "\nversion = " + version + "\nwasm = " + wasm + "\n"
	}
	ok := comp(`"echo"`, `"1.0.0"`, `"echo.wasm"`)
	tests := []struct {
		name, doc, key, reason string
	}{
		{"unknown top key", "dir = \"x\"\n" + ok, "dir", "unknown key"},
		{"unknown section", ok + "[limits]\nx = 1\n", "limits", "unknown key"},
		{"unknown component key", ok + "nmae = \"x\"\n", "component.nmae", "unknown key"},
		{"quoted unknown key", ok + "\"a.b\" = 1\n", `component."a.b"`, "unknown key"},
		{"name missing", comp(`""`, `"1.0.0"`, `"e.wasm"`), "component.name", "required"},
		{"name upper", comp(`"Echo"`, `"1.0.0"`, `"e.wasm"`), "component.name", "must match"},
		{"name too long", comp(`"`+strings.Repeat("a", 64)+`"`, `"1"`, `"e.wasm"`), "component.name", "must match"},
		{"name digit first", comp(`"1echo"`, `"1"`, `"e.wasm"`), "component.name", "must match"},
		{"version missing", comp(`"e"`, `""`, `"e.wasm"`), "component.version", "required"},
		{"version junk", comp(`"e"`, `"latest"`, `"e.wasm"`), "component.version", "semantic version"},
		{"version four parts", comp(`"e"`, `"1.2.3.4"`, `"e.wasm"`), "component.version", "semantic version"},
		{"wasm missing", comp(`"e"`, `"1"`, `""`), "component.wasm", "required"},
		{"wasm suffix", comp(`"e"`, `"1"`, `"e.wat"`), "component.wasm", "does not end in .wasm"},
		{"wasm absolute", comp(`"e"`, `"1"`, `"/bin/e.wasm"`), "component.wasm", "stay inside"},
		{"wasm escape", comp(`"e"`, `"1"`, `"a/../../e.wasm"`), "component.wasm", "stay inside"},
		{"wasm backslash", comp(`"e"`, `"1"`, `"a\\e.wasm"`), "component.wasm", "forward slashes"},
		{"sha256 short", ok + "sha256 = \"abc\"\n", "component.sha256", "64 lowercase hex"},
		{"memory negative", ok + "[runtime]\nmax_memory_mb = -1\n", "runtime.max_memory_mb", "outside 0..4096"},
		{"memory huge", ok + "[runtime]\nmax_memory_mb = 4097\n", "runtime.max_memory_mb", "outside 0..4096"},
		{"cores", ok + "[runtime]\nmax_cpu_cores = 257\n", "runtime.max_cpu_cores", "outside"},
		{"queue", ok + "[runtime]\nmessage_queue_size = 1048577\n", "runtime.message_queue_size", "outside"},
		{"timeout", ok + "[runtime]\nmessage_timeout_ms = 600001\n", "runtime.message_timeout_ms", "outside"},
		{"health", ok + "[runtime]\nhealth_check_interval_ms = -5\n", "runtime.health_check_interval_ms", "outside"},
		{"capability", ok + "[security]\ncapabilities = [\"kv:read:notes\", \"disk:read:/x\"]\n", "security.capabilities", `capability [1] "disk:read:/x": unknown kind`},
		{"log level", ok + "[monitoring]\nlog_level = \"trace\"\n", "monitoring.log_level", "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.doc), "d")
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("err = %v, want a *KeyError", err)
			}
			if ke.Key != tt.key || !strings.Contains(ke.Error(), tt.reason) {
				t.Errorf("err = %q (key %q), want key %q and %q", ke, ke.Key, tt.key, tt.reason)
			}
		})
	}
}

func TestParseManifestJoinsAllProblems(t *testing.T) {
	doc := "[component]\nname = \"Bad\"\nwasm = \"x\"\n[runtime]\nmax_memry_mb = 1\nmax_cpu_cores = -1\n"
	_, err := ParseManifest([]byte(doc), "")
	for _, key := range []string{"runtime.max_memry_mb", "component.name", "component.version", "component.wasm", "runtime.max_cpu_cores"} {
		if err == nil || !strings.Contains(err.Error(), key+": ") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestParseManifestSyntaxAndTypeErrors(t *testing.T) {
	for _, doc := range []string{
		"[component\nname = 1",
		minimal + "[runtime]\nmax_memory_mb = \"big\"\n",
		minimal + "[security]\ncapabilities = \"kv:read:x\"\n",
	} {
		_, err := ParseManifest([]byte(doc), "")
		if err == nil || !strings.HasPrefix(err.Error(), "line ") {
			t.Errorf("ParseManifest(%q) = %v, want a positioned error", doc, err)
		}
	}
}

func TestVerifySHA256HandBuiltManifest(t *testing.T) {
	m := &Manifest{Component: ComponentSection{SHA256: "zz"}}
	if err := m.VerifySHA256(nil); err == nil || errors.Is(err, ErrSHA256Mismatch) {
		t.Errorf("VerifySHA256 with a malformed pin = %v, want a format error", err)
	}
}
