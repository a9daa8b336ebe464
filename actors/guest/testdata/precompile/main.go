// Command precompile compiles WASM modules into a wazero file-backed
// compilation cache, configured as the actors/wasm Runtime configures
// wazero, so that a Runtime using the cache loads them without compiling.
//
// The end-to-end tests run it before loading Go guests: wazero's compiler
// is about twenty times slower under the race detector, which turns a
// one-second compile of a Go guest into half a minute. The cache key is the
// module, the wazero version, the CPU and the termination-check setting,
// not the race detector, so a plain build fills a cache the race build
// reads, provided it claims the same wazero version (a test binary reports
// "dev"):
//
//	go run -ldflags=-X=github.com/tetratelabs/wazero/internal/version.version=dev \
//		./testdata/precompile <cache-dir> <module.wasm>...
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: precompile <cache-dir> <module.wasm>...")
		os.Exit(2)
	}
	if err := precompile(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "precompile:", err)
		os.Exit(1)
	}
}

func precompile(dir string, modules []string) error {
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	defer cache.Close(ctx)
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true))
	defer rt.Close(ctx)
	for _, path := range modules {
		wasm, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
