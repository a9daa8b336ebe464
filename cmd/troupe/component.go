package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adrg/xdg"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/internal/scaffold"
)

func (c *cli) componentNew(_ context.Context, args []string) int {
	fs := c.newFlags("troupe component new", "<name> [--dir DIR] [--force]",
		"Create a WASM component written in Go: main.go, which registers its message and\nHTTP handlers with the guest SDK (actors/guest), and its Component.toml, which\ngrants no capability. DIR defaults to components/<name> when ./components\nexists, else <name>. The service loads it with service.WithComponents.")
	dir := fs.String("dir", "", "directory to create the component in")
	force := fs.Bool("force", false, "write into DIR even if it is not empty")
	pos, code := c.parse(fs, args, 1, 1)
	if code >= 0 {
		return code
	}
	files, err := scaffold.Component(pos[0])
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component new: %v\n", err)
		return exitUsage
	}
	if *dir == "" {
		*dir = pos[0]
		if fi, err := os.Stat(c.path("components")); err == nil && fi.IsDir() {
			*dir = filepath.Join("components", pos[0])
		}
	}
	if err := writeFiles(c.path(*dir), files, *force); err != nil {
		fmt.Fprintf(c.stderr, "troupe component new: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "created component %s in %s\n  troupe component build %s\n", pos[0], *dir, *dir)
	return exitOK
}

const buildHelp = `Build the module of the component in DIR (default: .) from its Go source with
the code dev mode uses (actors.components.build_missing): GOOS=wasip1
GOARCH=wasm go build -buildmode=c-shared -trimpath, cached by a hash of the
sources and the Go version. The module is written where Component.toml's
component.wasm says, then loaded as the service would load it — ABI exports,
memory limit, sha256 pin, one instance — so a module that builds but would not
load fails here, not at start-up.

The cache is the service's own, $XDG_CACHE_HOME/<service>/components (the
service from --service or ./go.mod), so dev mode and this command share builds.`

func (c *cli) componentBuild(ctx context.Context, args []string) int {
	fs := c.newFlags("troupe component build", "[DIR] [--service NAME]", buildHelp)
	service := fs.String("service", "", "the service whose dev-mode cache to share (default: from ./go.mod, else \"troupe\")")
	pos, code := c.parse(fs, args, 0, 1)
	if code >= 0 {
		return code
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	m, err := wasm.LoadManifest(filepath.Join(c.path(dir), wasm.ManifestFile))
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component build: %v\n", err)
		return exitFailed
	}
	cacheDir := c.cacheDir
	if cacheDir == "" {
		name, err := c.serviceName(*service)
		if err != nil {
			name = "troupe"
		}
		cacheDir = filepath.Join(xdg.CacheHome, name, "components")
	}
	start := time.Now()
	module, err := buildComponent(ctx, m, cacheDir)
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe component build: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "built %s (%s, sha256 %x) in %s; it loads\n", m.WASMPath(), sizeString(len(module)), sha256.Sum256(module), time.Since(start).Round(time.Millisecond))
	return exitOK
}

// buildComponent builds m's module with the dev-mode builder, writes it to
// m.WASMPath() and loads it from there, and returns its bytes.
func buildComponent(ctx context.Context, m *wasm.Manifest, cacheDir string) ([]byte, error) {
	// The builder runs when the module is missing: point a copy of the
	// manifest at a file that is not there. A pinned sha256 is checked
	// below, against the build, rather than refusing to build.
	dev := *m
	dev.Component.WASM = ".troupe-build-" + m.Component.Name + ".wasm"
	dev.Component.SHA256 = ""
	if err := loadOnce(ctx, &dev, cacheDir, true); err != nil {
		return nil, err
	}
	builds, err := buildsOf(filepath.Join(cacheDir, "build"), m.Component.Name)
	if err != nil || len(builds) != 1 {
		return nil, fmt.Errorf("expected one build of %s in %s, found %d", m.Component.Name, filepath.Join(cacheDir, "build"), len(builds))
	}
	module, err := os.ReadFile(builds[0])
	if err != nil {
		return nil, err
	}
	if m.Component.SHA256 != "" {
		if err := m.VerifySHA256(module); err != nil {
			return nil, fmt.Errorf("%s pins component.sha256 = %q, but the build's is %x; %s is left as it was: update the pin if the change is intended", filepath.Join(m.Dir, wasm.ManifestFile), m.Component.SHA256, sha256.Sum256(module), m.WASMPath())
		}
	}
	if err := writeAtomic(m.WASMPath(), module); err != nil {
		return nil, err
	}
	// Load what was written, as the service will.
	if err := loadOnce(ctx, m, cacheDir, false); err != nil {
		return nil, fmt.Errorf("built, but %w", err)
	}
	return module, nil
}

// buildsOf lists the dev-mode builds of component name in dir: files
// <name>-<sha256 hex>.wasm (docs/components.md#building), the builder
// keeping one per component.
func buildsOf(dir, name string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, name+"-*.wasm"))
	var out []string
	for _, f := range all {
		sum := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), name+"-"), ".wasm")
		if len(sum) == 2*sha256.Size && strings.Trim(sum, "0123456789abcdef") == "" {
			out = append(out, f)
		}
	}
	return out, err
}

// loadOnce loads m in a runtime of its own and closes it.
func loadOnce(ctx context.Context, m *wasm.Manifest, cacheDir string, buildMissing bool) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sys := actors.NewSystem(actors.WithLogger(log))
	defer sys.Shutdown(context.Background())
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{System: sys, CacheDir: cacheDir, Logger: log, BuildMissing: buildMissing})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	_, err = rt.Load(ctx, m)
	return err
}

// writeAtomic replaces path with data through a rename, so a running
// service's hot reload never reads half a module.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.wasm")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// sizeString prints a byte count in KiB or MiB.
func sizeString(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
