package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBuildOutput bounds the compiler output quoted in a build error: the
// first errors are the useful ones, and a runaway log must not flood ours.
const maxBuildOutput = 16 << 10

// buildWaitDelay is how long a cancelled build's pipes may outlive the go
// command, whose children (compile, link) may still hold them.
const buildWaitDelay = 5 * time.Second

// buildFromSource builds the component whose module m.WASMPath() is missing
// from the Go package in m.Dir, for wasip1 as a reactor, and returns the
// module's bytes. This is dev mode, like go run: a production deployment
// ships the module.
//
// Builds are cached in cacheDir as <name>-<hash>.wasm, where hash covers the
// Go version and every file of every non-standard package the component
// links (its own directory included) plus their go.mod and go.sum, so an
// unchanged component starts without building and an edit to it, or to the
// SDK it uses, rebuilds it. A build is written to a temporary file and
// renamed into place, so processes racing on one cache are safe.
func buildFromSource(ctx context.Context, m *Manifest, cacheDir string, log *slog.Logger) ([]byte, error) {
	name, wasmPath := m.Component.Name, m.WASMPath()
	if m.Component.SHA256 != "" {
		return nil, fmt.Errorf("%s is missing, and a module pinned by sha256 must be shipped, not built from source", wasmPath)
	}
	if !hasGoSource(m.Dir) {
		return nil, fmt.Errorf("%s is missing and %s holds no Go source to build it from", wasmPath, m.Dir)
	}
	tc, err := findGo(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s is missing and cannot be built from source: %w; ship the module", wasmPath, err)
	}
	sum, err := sourceHash(ctx, tc, m.Dir)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", m.Dir, err)
	}
	out := filepath.Join(cacheDir, name+"-"+sum+".wasm")
	wasm, err := os.ReadFile(out)
	if err == nil {
		log.Info("using cached build", "component", name, "dir", m.Dir, "wasm", out)
		return wasm, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	start := time.Now()
	if wasm, err = goBuild(ctx, tc, m.Dir, cacheDir, out); err != nil {
		return nil, err
	}
	log.Info("built component from source", "component", name, "dir", m.Dir, "wasm", out, "duration", time.Since(start))
	pruneBuilds(cacheDir, name, out)
	return wasm, nil
}

// hasGoSource reports whether dir holds a non-test Go file.
func hasGoSource(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return slices.ContainsFunc(files, func(f string) bool { return !strings.HasSuffix(f, "_test.go") })
}

// goToolchain is the go command and the version it reports.
type goToolchain struct {
	path, version string
}

var (
	toolchainMu sync.Mutex
	toolchain   *goToolchain // found once per process; failures are retried
)

// findGo locates the go command and asks its version, once per process.
func findGo(ctx context.Context) (*goToolchain, error) {
	toolchainMu.Lock()
	defer toolchainMu.Unlock()
	if toolchain != nil {
		return toolchain, nil
	}
	path, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("no Go toolchain on PATH: %w", err)
	}
	v, err := exec.CommandContext(ctx, path, "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}
	toolchain = &goToolchain{path: path, version: strings.TrimSpace(string(v))}
	return toolchain, nil
}

// command returns the go command running args in dir, for wasip1.
func (tc *goToolchain) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tc.path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.WaitDelay = buildWaitDelay
	return cmd
}

// sourceHash returns the hex SHA-256 of the inputs of the build of the
// package in dir: the Go version, then each non-standard package directory
// it links and each go.mod (with its go.sum), in sorted order.
func sourceHash(ctx context.Context, tc *goToolchain, dir string) (string, error) {
	const format = `{{if not .Standard}}D {{.Dir}}{{with .Module}}{{"\n"}}M {{.GoMod}}{{end}}{{end}}`
	var stderr bytes.Buffer
	cmd := tc.command(ctx, dir, "list", "-e", "-deps", "-f", format, ".")
	cmd.Stderr = &boundedBuffer{buf: &stderr, max: maxBuildOutput}
	list, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("listing its packages: %w\n%s", err, stderr.Bytes())
	}
	var dirs, files []string
	for line := range strings.Lines(string(list)) {
		kind, path, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case path == "":
		case kind == "D":
			dirs = append(dirs, path)
		case kind == "M":
			files = append(files, path, filepath.Join(filepath.Dir(path), "go.sum"))
		}
	}
	h := sha256.New()
	writeField(h, []byte(tc.version))
	for _, d := range sortedUnique(dirs) {
		if err := hashDir(h, d); err != nil {
			return "", err
		}
	}
	for _, f := range sortedUnique(files) {
		if err := hashFile(h, f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// hashDir feeds h every regular file directly in dir but built modules, so
// that embedded files count and our own outputs do not.
func hashDir(h hash.Hash, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries { // ReadDir sorts by name
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".wasm") {
			continue
		}
		if err := hashFile(h, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// hashFile feeds h the path and contents of one file.
func hashFile(h hash.Hash, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	writeField(h, []byte(path))
	writeField(h, b)
	return nil
}

// writeField writes b length-prefixed, so that no two different sequences
// of fields hash alike.
func writeField(h hash.Hash, b []byte) {
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
	h.Write(b)
}

// goBuild builds the package in dir into out, through a temporary
// directory in cacheDir and a rename, and returns the module's bytes.
func goBuild(ctx context.Context, tc *goToolchain, dir, cacheDir, out string) ([]byte, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	// A directory, not a file: go build refuses to overwrite a file it did
	// not write.
	tmp, err := os.MkdirTemp(cacheDir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tmpOut := filepath.Join(tmp, "module.wasm")
	var output bytes.Buffer
	cmd := tc.command(ctx, dir, "build", "-buildmode=c-shared", "-trimpath", "-o", tmpOut, ".")
	bounded := &boundedBuffer{buf: &output, max: maxBuildOutput}
	cmd.Stdout, cmd.Stderr = bounded, bounded
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s for wasip1: %w\n%s%s", dir, err, output.Bytes(), bounded.truncation())
	}
	// Read before the rename: a concurrent prune may remove out at once.
	wasm, err := os.ReadFile(tmpOut)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmpOut, out); err != nil {
		return nil, err
	}
	return wasm, nil
}

// pruneBuilds removes the builds of component name in cacheDir other than
// keep, so that the cache holds one build per component rather than one per
// edit. Failures are harmless and ignored.
func pruneBuilds(cacheDir, name, keep string) {
	old, _ := filepath.Glob(filepath.Join(cacheDir, name+"-*.wasm"))
	for _, f := range old {
		sum := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), name+"-"), ".wasm")
		// A longer name sharing the prefix ("echo-v2") has its own builds.
		if f == keep || len(sum) != sha256.Size*2 || strings.Trim(sum, "0123456789abcdef") != "" {
			continue
		}
		os.Remove(f)
	}
}

// boundedBuffer keeps the first max bytes written to buf and counts the
// rest.
type boundedBuffer struct {
	buf     *bytes.Buffer
	max     int
	dropped int
}

// Write never fails, so that the command's output is drained whatever its
// size.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	keep := min(len(p), max(b.max-b.buf.Len(), 0))
	b.buf.Write(p[:keep])
	b.dropped += len(p) - keep
	return len(p), nil
}

// truncation notes how much output was dropped, or is empty.
func (b *boundedBuffer) truncation() string {
	if b.dropped == 0 {
		return ""
	}
	return fmt.Sprintf("\n... (%d more bytes)", b.dropped)
}
