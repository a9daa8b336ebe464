// Package wasmtest prepares WASM components for tests that run under the
// race detector.
//
// wazero's compiler runs about twenty times slower under -race, which turns
// the one-second compile of a Go guest into half a minute per test. Warm
// runs the real component loader outside the race detector, in a separate
// process, so the dev build and the compiled machine code land in a cache
// directory; a service or Runtime given that directory (for a service,
// actors.components.cache_dir) then loads the components without building
// or compiling them again.
package wasmtest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
)

// Warm builds and compiles the components in dirs (each holding a
// Component.toml) into cacheDir, with `go run` of the warm command.
func Warm(cacheDir string, dirs ...string) error {
	args := []string{"run",
		"-ldflags=-X github.com/tetratelabs/wazero/internal/version.version=" + wazeroVersion(),
		"github.com/troupehq/troupe/actors/wasm/wasmtest/warm", cacheDir}
	cmd := exec.Command("go", append(args, dirs...)...)
	// No -race (or any other flag a test run sets) for the warm process.
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wasmtest: warming %s: %w\n%s", strings.Join(dirs, ", "), err, out)
	}
	return nil
}

// wazeroVersion is the wazero version this binary reports, which keys the
// compilation cache. A test binary reports "dev" where a `go run` binary
// reports the module version, so the warm command is built claiming this
// one; a mismatch would only cost the speed Warm exists for.
func wazeroVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/tetratelabs/wazero" && d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return "dev"
}
