package wasmbench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// payload is the message every benchmark echoes: 64 bytes, not all alike,
// so a guest that echoed the wrong bytes would be caught.
var payload = func() []byte {
	p := make([]byte, 64)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}()

// compileWAT compiles testdata/<name>.wat with wabt's wat2wasm into a
// temporary directory and returns the path of the module. No .wasm is
// committed, so the guests always match their sources.
func compileWAT(tb testing.TB, name string) string {
	tb.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("wat2wasm (Debian package wabt) is required in CI: ", err)
		}
		tb.Skip("SKIPPED: wat2wasm (Debian package wabt) is not installed")
	}
	src := filepath.Join("testdata", name+".wat")
	out := filepath.Join(tb.TempDir(), name+".wasm")
	var stderr bytes.Buffer
	cmd := exec.Command(tool, src, "-o", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", src, err, stderr.Bytes())
	}
	return out
}

// readWAT compiles testdata/<name>.wat and returns the module's bytes.
func readWAT(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(compileWAT(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
