package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseManifest checks that parsing never panics and that an accepted
// manifest keeps its module inside its directory and its limits in range.
func FuzzParseManifest(f *testing.F) {
	for _, name := range []string{"good/Component.toml", "unknown_key.toml", "bad_sha256.toml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "[runtime]\nmax_memory_mb = -1\n[security]\ncapabilities = [\"x\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data, "dir")
		if err != nil {
			return
		}
		if p := m.WASMPath(); !strings.HasPrefix(p, "dir"+string(filepath.Separator)) {
			t.Errorf("WASMPath %q escapes dir", p)
		}
		r := m.Runtime
		if r.MaxMemoryMB < 1 || r.MaxMemoryMB > MaxMemoryMB || r.MaxCPUCores < 1 || r.MessageQueueSize < 1 ||
			r.MessageTimeoutMS < 1 || r.HealthCheckIntervalMS < 1 {
			t.Errorf("runtime out of range after defaults: %+v", r)
		}
		_ = m.VerifySHA256(data)
		m.Caps.AllowsFile("/data", true)
		m.Caps.AllowsNetwork("a.com", 443)
		m.Caps.AllowsTopic("subscribe", "a.>")
		m.Caps.FileMounts()
	})
}
