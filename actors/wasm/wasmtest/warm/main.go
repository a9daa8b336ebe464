// Command warm loads WASM components the way a service does, building a
// missing module from source and compiling it, so that their dev builds
// and compiled code land in a cache directory. See package wasmtest.
//
//	warm <cache-dir> <component-dir>...
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: warm <cache-dir> <component-dir>...")
		os.Exit(2)
	}
	if err := warm(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "warm:", err)
		os.Exit(1)
	}
}

func warm(cacheDir string, dirs []string) error {
	ctx := context.Background()
	sys := actors.NewSystem()
	defer func() { _ = sys.Shutdown(ctx) }()
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{
		System:       sys,
		CacheDir:     cacheDir,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		BuildMissing: true,
	})
	if err != nil {
		return err
	}
	defer func() { _ = rt.Close(ctx) }()
	var errs []error
	for _, dir := range dirs {
		m, err := wasm.LoadManifest(filepath.Join(dir, wasm.ManifestFile))
		if err == nil {
			_, err = rt.Load(ctx, m)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
