package wasm

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

// rtWASMCache memoises wat2wasm output by source, so tests that share a
// guest compile it once.
var rtWASMCache sync.Map // string → []byte

// rtCompileWAT compiles WAT source with wat2wasm.
func rtCompileWAT(t testing.TB, src string) []byte {
	t.Helper()
	if b, ok := rtWASMCache.Load(src); ok {
		return b.([]byte)
	}
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm (wabt) is not installed")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("wat2wasm", "-o", out, in).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rtWASMCache.Store(src, b)
	return b
}

// rtWAT returns testdata/wat/<name>.wat.
func rtWAT(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wat", name+".wat"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rtEcho returns the echo guest whose "version" command answers version
// (two characters, such as "v2").
func rtEcho(t testing.TB, version string) []byte {
	t.Helper()
	return rtCompileWAT(t, strings.Replace(rtWAT(t, "rt_echo"), `"\00v1"`, `"\00`+version+`"`, 1))
}

// rtComponent writes dir/name/Component.toml (with extra appended to its
// [runtime] table) and the module, and returns the parsed manifest.
func rtComponent(t testing.TB, dir, name string, wasm []byte, runtime string) *Manifest {
	t.Helper()
	cdir := filepath.Join(dir, name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("[component]\nname = %q\nversion = \"1.0.0\"\nwasm = \"module.wasm\"\n\n[runtime]\n%s\n", name, runtime)
	rtWrite(t, filepath.Join(cdir, ManifestFile), []byte(toml))
	if wasm != nil {
		rtWrite(t, filepath.Join(cdir, "module.wasm"), wasm)
	}
	m, err := LoadManifest(filepath.Join(cdir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rtWrite replaces a file atomically, so a polling reader never sees half
// of it.
func rtWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// rtLog is a logger whose output tests can read.
type rtLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *rtLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *rtLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// rtEnv is a System and a Runtime on it, both closed when the test ends.
type rtEnv struct {
	sys *actors.System
	rt  *Runtime
	log *rtLog
	dir string
}

// rtNew starts a System with quick restarts and a Runtime with o (System
// and Logger filled in).
func rtNew(t testing.TB, o RuntimeOptions) *rtEnv {
	t.Helper()
	e := &rtEnv{log: &rtLog{}, dir: t.TempDir()}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.sys = actors.NewSystem(actors.WithLogger(logger), actors.WithDefaults(actors.Config{
		BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond, MaxRestarts: 100,
	}))
	o.System, o.Logger = e.sys, logger
	e.rt = rtRuntime(t, o)
	return e
}

// rtRuntime starts a Runtime with o; when the test ends it shuts o.System
// down, then closes the Runtime.
func rtRuntime(t testing.TB, o RuntimeOptions) *Runtime {
	t.Helper()
	rt, err := NewRuntime(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := o.System.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rt
}

// spawn loads the echo guest as name with the runtime settings and spawns
// it.
func (e *rtEnv) spawn(t testing.TB, name, runtime string) (*Component, actors.Ref) {
	t.Helper()
	c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, name, rtEcho(t, "v1"), runtime))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c, ref
}

// request sends msg and waits up to 10 s (a hang bound, not an assertion).
func (e *rtEnv) request(ref actors.Ref, msg any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.sys.Request(ctx, ref, msg)
}

// rtEventually polls cond until it holds, failing after 10 s.
func rtEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
