package wasm

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildNeedsGo skips a test that compiles Go when no toolchain is present;
// CI always has one.
func buildNeedsGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
}

// buildLogger returns a logger writing text records into the returned
// buffer.
func buildLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// buildModule writes a standalone Go module with main.go holding src into
// a temporary directory and returns its manifest.
func buildModule(t *testing.T, src string) *Manifest {
	t.Helper()
	dir := t.TempDir()
	buildWrite(t, filepath.Join(dir, "go.mod"), "module buildtest\n\ngo 1.25\n")
	buildWrite(t, filepath.Join(dir, "main.go"), src)
	return buildManifest(t, dir, "")
}

// buildManifest parses a minimal manifest for component "mod" in dir, plus
// extra [component] lines.
func buildManifest(t *testing.T, dir, extra string) *Manifest {
	t.Helper()
	m, err := ParseManifest([]byte("[component]\nname = \"mod\"\nversion = \"1.0.0\"\nwasm = \"mod.wasm\"\n"+extra), dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func buildWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildOutputs lists the builds of component name in cache.
func buildOutputs(t *testing.T, cache, name string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(cache, name+"-*.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBuildFromSourceCachesEcho(t *testing.T) {
	buildNeedsGo(t)
	m, err := LoadManifest(filepath.Join("..", "..", "examples", "components", "echo", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	log, logs := buildLogger()
	first, err := buildFromSource(context.Background(), m, cache, log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte("\x00asm")) {
		t.Fatalf("build is not a wasm module: % x", first[:min(len(first), 8)])
	}
	if !strings.Contains(logs.String(), "built component from source") {
		t.Errorf("first build not logged: %s", logs)
	}
	outs := buildOutputs(t, cache, "echo")
	if len(outs) != 1 {
		t.Fatalf("cache holds %v, want one echo build", outs)
	}
	// Backdate the build: a rebuild would give it a fresh mtime.
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(outs[0], old, old); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	second, err := buildFromSource(context.Background(), m, cache, log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("cached build differs from the first build")
	}
	if fi, err := os.Stat(outs[0]); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("cached build was rewritten (stat %v, err %v)", fi, err)
	}
	if !strings.Contains(logs.String(), "using cached build") || strings.Contains(logs.String(), "built component") {
		t.Errorf("second call logs %q, want only the cache hit", logs)
	}
}

func TestBuildFromSourceRebuildsEditedSource(t *testing.T) {
	buildNeedsGo(t)
	m := buildModule(t, "package main\n\nfunc main() {}\n")
	cache := t.TempDir()
	log, _ := buildLogger()
	if _, err := buildFromSource(context.Background(), m, cache, log); err != nil {
		t.Fatal(err)
	}
	before := buildOutputs(t, cache, "mod")
	buildWrite(t, filepath.Join(m.Dir, "main.go"), "package main\n\nvar edited = 1\n\nfunc main() { _ = edited }\n")
	if _, err := buildFromSource(context.Background(), m, cache, log); err != nil {
		t.Fatal(err)
	}
	after := buildOutputs(t, cache, "mod")
	if len(before) != 1 || len(after) != 1 || before[0] == after[0] {
		t.Errorf("builds before the edit %v, after %v: want one each, different, the old one pruned", before, after)
	}
}

func TestBuildFromSourceErrors(t *testing.T) {
	buildNeedsGo(t)
	empty := t.TempDir()
	tests := []struct {
		name string
		m    *Manifest
		want []string
	}{
		{
			name: "pinned module",
			m:    buildManifest(t, empty, "sha256 = \""+strings.Repeat("ab", 32)+"\"\n"),
			want: []string{"mod.wasm is missing", "pinned by sha256 must be shipped"},
		},
		{
			name: "no Go source",
			m:    buildManifest(t, empty, ""),
			want: []string{"mod.wasm is missing and " + empty + " holds no Go source to build it from"},
		},
		{
			name: "compile error",
			m:    buildModule(t, "package main\n\nfunc main() { notDeclared() }\n"),
			want: []string{"building", "undefined: notDeclared"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			log, _ := buildLogger()
			wasm, err := buildFromSource(context.Background(), tt.m, cache, log)
			if err == nil {
				t.Fatalf("built %d bytes, want an error", len(wasm))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if outs := buildOutputs(t, cache, "mod"); len(outs) != 0 {
				t.Errorf("failed build left %v in the cache", outs)
			}
		})
	}
}

func TestBuildFromSourceWithoutGo(t *testing.T) {
	toolchainMu.Lock()
	saved := toolchain
	toolchain = nil // forget a go found by another test
	toolchainMu.Unlock()
	t.Cleanup(func() {
		toolchainMu.Lock()
		toolchain = saved
		toolchainMu.Unlock()
	})
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	buildWrite(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() {}\n")
	log, _ := buildLogger()
	_, err := buildFromSource(context.Background(), buildManifest(t, dir, ""), t.TempDir(), log)
	if err == nil || !strings.Contains(err.Error(), "mod.wasm is missing and cannot be built from source") ||
		!strings.Contains(err.Error(), "ship the module") {
		t.Errorf("error = %v, want one saying to ship the module", err)
	}
}

func TestBuildPruneKeepsOtherComponents(t *testing.T) {
	cache := t.TempDir()
	sum := func(c string) string { return strings.Repeat(c, 64) }
	files := map[string]bool{ // name → kept
		"echo-" + sum("a") + ".wasm":    true, // the build to keep
		"echo-" + sum("b") + ".wasm":    false,
		"echo-v2-" + sum("c") + ".wasm": true, // another component
		"echo-notes.wasm":               true, // not a build
	}
	for f := range files {
		buildWrite(t, filepath.Join(cache, f), "x")
	}
	pruneBuilds(cache, "echo", filepath.Join(cache, "echo-"+sum("a")+".wasm"))
	for f, kept := range files {
		_, err := os.Stat(filepath.Join(cache, f))
		if exists := err == nil; exists != kept {
			t.Errorf("%s exists = %v, want %v", f, exists, kept)
		}
	}
}

func TestBuildBoundedBuffer(t *testing.T) {
	tests := []struct {
		writes    []string
		want      string
		truncated string
	}{
		{writes: []string{"ab", "c"}, want: "abc"},
		{writes: []string{"abcdef"}, want: "abcd", truncated: "\n... (2 more bytes)"},
		{writes: []string{"abc", "def", "g"}, want: "abcd", truncated: "\n... (3 more bytes)"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		b := &boundedBuffer{buf: &buf, max: 4}
		for _, w := range tt.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if buf.String() != tt.want || b.truncation() != tt.truncated {
			t.Errorf("after %q: kept %q, truncation %q; want %q, %q", tt.writes, buf.String(), b.truncation(), tt.want, tt.truncated)
		}
	}
}
