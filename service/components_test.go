package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/actors/wasm/wasmtest"
	"github.com/troupehq/troupe/internal/redistest"
)

// compWAT is the components tests' guest. Its first byte is a command:
// "e..." echoes the whole message; "v" replies with its version (the
// %s below); "k<key>" puts <key> = <key> in KV namespace "n", replying
// with an error when the store refuses. _initialize logs "initialize", so
// the logs count instantiations.
const compWAT = `(module
  (import "troupe" "log" (func $log (param i32 i32 i32) (result i64)))
  (import "troupe" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 4)
  (data (i32.const 16) "n")
  (data (i32.const 32) "%s")
  (data (i32.const 48) "initialize")
  (func (export "troupe_abi_v1"))
  (func (export "_initialize")
    (drop (call $log (i32.const 0) (i32.const 48) (i32.const 10))))
  (func (export "troupe_alloc") (param $size i32) (result i32) (i32.const 4097))
  (func $reply (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (local $cmd i32)
    (local.set $cmd (i32.load8_u (local.get $ptr)))
    (if (i32.eq (local.get $cmd) (i32.const 118)) ;; v
      (then
        (i32.store8 (i32.const 31) (i32.const 0))
        (return (call $reply (i32.const 31) (i32.const 3)))))
    (if (i32.eq (local.get $cmd) (i32.const 107)) ;; k
      (then
        (i32.store8 (i32.const 4096) (i32.const 0))
        (if (i64.lt_s
              (call $kv_put (i32.const 16) (i32.const 1)
                (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1))
                (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1)))
              (i64.const 0))
          (then (i32.store8 (i32.const 4096) (i32.const 1))))
        (return (call $reply (i32.const 4096) (i32.const 1)))))
    (i32.store8 (i32.const 4096) (i32.const 0))
    (call $reply (i32.const 4096) (i32.add (local.get $len) (i32.const 1)))))
`

// writeComponent writes a component called name into dir/name: the test
// guest at version, and a manifest with extra [runtime] lines.
func writeComponent(t *testing.T, dir, name, version, runtime string, caps ...string) string {
	t.Helper()
	cdir := filepath.Join(dir, name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(caps))
	for i, c := range caps {
		quoted[i] = `"` + c + `"`
	}
	manifest := fmt.Sprintf("[component]\nname = %q\nversion = \"1.0.0\"\nwasm = \"%s.wasm\"\n[runtime]\n%s\n[security]\ncapabilities = [%s]\n",
		name, name, runtime, strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(cdir, wasm.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	writeModule(t, filepath.Join(cdir, name+".wasm"), version)
	return cdir
}

// writeModule assembles the test guest at version into path, atomically,
// so a hot-reload poll never sees half a file.
func writeModule(t *testing.T, path, version string) {
	t.Helper()
	if len(version) != 2 {
		t.Fatalf("version %q: the guest replies with exactly two bytes", version)
	}
	assembleWAT(t, fmt.Sprintf(compWAT, version), path)
}

// assembleWAT assembles the module src into path, atomically.
func assembleWAT(t *testing.T, wat, path string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "guest.wat")
	if err := os.WriteFile(src, []byte(wat), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if out, err := exec.Command("wat2wasm", src, "-o", tmp).CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) && os.Getenv("CI") == "" {
			t.Skip("wat2wasm (Debian package wabt) is not installed")
		}
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// componentEnv is the environment of a service loading the components in
// dir, with its compile cache in cache.
func componentEnv(dir, cache string, extra ...string) map[string]string {
	env := map[string]string{"ACTORS__COMPONENTS__DIR": dir, "ACTORS__COMPONENTS__CACHE_DIR": cache}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// ask sends msg to the actor called name and returns its reply.
func (r *running) ask(t *testing.T, name, msg string) (any, error) {
	t.Helper()
	sys := r.svc.Actors()
	ref, err := sys.Lookup(name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return sys.Request(ctx, ref, []byte(msg))
}

// TestComponentsServeAndLimit loads a component directory through the
// service and checks what the [actors.components] limits do to it.
func TestComponentsServeAndLimit(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	writeComponent(t, dir, "echo", "v1", "")
	r := start(t, componentEnv(dir, cache,
		"ACTORS__COMPONENTS__MAX_MESSAGE_BYTES", "1000",
		"ACTORS__COMPONENTS__MAX_REPLY_BYTES", "500"))

	if got, err := r.ask(t, "echo", "e-hello"); err != nil || !bytes.Equal(got.([]byte), []byte("e-hello")) {
		t.Fatalf("echo = %v, %v", got, err)
	}
	// A message over max_message_bytes never reaches the guest: the reply
	// is the error.
	if got, err := r.ask(t, "echo", "e"+strings.Repeat("x", 1000)); err != nil || !errors.Is(asError(got), wasm.ErrMessageTooLarge) {
		t.Errorf("a 1001-byte message: %v, %v; want ErrMessageTooLarge", got, err)
	}
	// A reply over max_reply_bytes is an ABI violation: the instance goes,
	// the actor restarts and answers again.
	var abi *wasm.ABIError
	if _, err := r.ask(t, "echo", "e"+strings.Repeat("x", 600)); !errors.As(err, &abi) {
		t.Errorf("a 601-byte reply: %v, want an *ABIError", err)
	}
	if got, err := r.ask(t, "echo", "e-again"); err != nil || string(got.([]byte)) != "e-again" {
		t.Errorf("after the restart: %v, %v", got, err)
	}
	// cache_dir holds the compiled module.
	if entries, err := os.ReadDir(cache); err != nil || len(entries) == 0 {
		t.Errorf("cache_dir %s is empty (%v): the compilation cache is not there", cache, err)
	}
}

// TestComponentsStartupErrors checks the start-up failures that name an
// [actors.components] key.
func TestComponentsStartupErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		env   []string
		want  []string
	}{
		{"too many components", func(t *testing.T, dir string) {
			writeComponent(t, dir, "one", "v1", "")
			writeComponent(t, dir, "two", "v1", "")
		}, []string{"ACTORS__COMPONENTS__MAX_COMPONENTS", "1"}, []string{"actors.components.max_components", "2 components"}},
		{"memory over the cap", func(t *testing.T, dir string) {
			writeComponent(t, dir, "big", "v1", "max_memory_mb = 64")
		}, []string{"ACTORS__COMPONENTS__MAX_MEMORY_MB", "32"}, []string{"actors.components.max_memory_mb", "cap of 32 MiB"}},
		{"missing module, no dev build", func(t *testing.T, dir string) {
			cdir := writeComponent(t, dir, "gone", "v1", "")
			if err := os.Remove(filepath.Join(cdir, "gone.wasm")); err != nil {
				t.Fatal(err)
			}
		}, []string{"ACTORS__COMPONENTS__BUILD_MISSING", "false"}, []string{"actors.components.dir", "gone.wasm"}},
		{"kv_store redis without redis.url", func(*testing.T, string) {}, []string{"ACTORS__COMPONENTS__KV_STORE", "redis"},
			[]string{"actors.components.kv_store", "redis.url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := New("test", WithConfigLoader(testLoader(t, componentEnv(dir, t.TempDir(), tt.env...))), WithLogOutput(&syncBuffer{}))
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestComponentsWarmInstances counts instantiations in the logs: the load
// check's instance stays warm, the actor takes it, and the pool refills to
// warm_instances.
func TestComponentsWarmInstances(t *testing.T) {
	dir := t.TempDir()
	writeComponent(t, dir, "echo", "v1", "")
	r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__WARM_INSTANCES", "3"))
	// 1 load check (taken by the actor) + 3 refilled.
	waitFor(t, func() bool { return strings.Count(r.logs.String(), `"msg":"initialize"`) == 4 })
}

// TestComponentsHotReload replaces the module under a running service.
func TestComponentsHotReload(t *testing.T) {
	dir := t.TempDir()
	cdir := writeComponent(t, dir, "echo", "v1", "")
	r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__RELOAD_INTERVAL", "20ms"))
	if got, err := r.ask(t, "echo", "v"); err != nil || string(got.([]byte)) != "v1" {
		t.Fatalf("version = %v, %v", got, err)
	}
	writeModule(t, filepath.Join(cdir, "echo.wasm"), "v2")
	waitFor(t, func() bool {
		got, err := r.ask(t, "echo", "v")
		return err == nil && string(got.([]byte)) == "v2"
	})

	// A module that fails to load leaves v2 serving and readiness warning.
	if err := os.WriteFile(filepath.Join(cdir, "echo.wasm"), []byte("\x00asm broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, b := get(t, r.adminBase()+"/readyz")
		return strings.Contains(string(b), `"actors:components"`) && strings.Contains(string(b), "last reload failed")
	})
	if got, err := r.ask(t, "echo", "v"); err != nil || string(got.([]byte)) != "v2" {
		t.Errorf("after a failed reload: %v, %v; want v2 still serving", got, err)
	}
}

// TestComponentsNoHotReload checks that reload_interval = 0s leaves a
// changed module alone.
func TestComponentsNoHotReload(t *testing.T) {
	dir := t.TempDir()
	cdir := writeComponent(t, dir, "echo", "v1", "")
	r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__RELOAD_INTERVAL", "0s"))
	writeModule(t, filepath.Join(cdir, "echo.wasm"), "v2")
	// The default interval is 2s; with reloads on, 3s would see v2.
	time.Sleep(3 * time.Second)
	if got, err := r.ask(t, "echo", "v"); err != nil || string(got.([]byte)) != "v1" {
		t.Fatalf("version = %v, %v; want v1 with hot reload off", got, err)
	}
}

// TestComponentsKV writes component state to the memory store, bounded by
// kv_max_keys, and to Redis with kv_store = redis.
func TestComponentsKV(t *testing.T) {
	t.Run("memory bounded", func(t *testing.T) {
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__KV_MAX_KEYS", "1"))
		if got, err := r.ask(t, "kv", "ka"); err != nil || got != nil {
			t.Fatalf("first put: %v, %v", got, err)
		}
		var ge *wasm.GuestError
		if got, err := r.ask(t, "kv", "kb"); err != nil || !errors.As(asError(got), &ge) {
			t.Fatalf("a put past kv_max_keys: %v, %v; want the store's refusal as a guest error", got, err)
		}
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__KV_STORE", "redis", "REDIS__URL", srv.URL(), "REDIS__TIMEOUT", relaxedRedisTimeout))
		if got, err := r.ask(t, "kv", "kstate"); err != nil || got != nil {
			t.Fatalf("put: %v, %v", got, err)
		}
		v, err := srv.Client(t).HGet(context.Background(), "troupe:test:kv:kv/n/state", "v").Result()
		if err != nil || v != "state" {
			t.Fatalf("Redis holds %q, %v; want the component's value", v, err)
		}
	})
	// A frozen Redis costs a kv call redis.timeout at most, then nothing:
	// the guest gets the store's error and its message is answered.
	t.Run("redis frozen", func(t *testing.T) {
		srv := redistest.Start(t)
		dir := t.TempDir()
		writeComponent(t, dir, "kv", "v1", "", "kv:write:n")
		r := start(t, componentEnv(dir, t.TempDir(), "ACTORS__COMPONENTS__KV_STORE", "redis", "REDIS__URL", srv.URL(), "REDIS__TIMEOUT", "50ms"))
		if got, err := r.ask(t, "kv", "kstate"); err != nil || got != nil {
			t.Fatalf("put: %v, %v", got, err)
		}
		srv.Freeze()
		t.Cleanup(srv.Thaw)
		for i := range 5 {
			start := time.Now()
			got, err := r.ask(t, "kv", "kfrozen")
			var ge *wasm.GuestError
			if took := time.Since(start); err != nil || !errors.As(asError(got), &ge) || took > time.Second {
				t.Fatalf("put %d with Redis frozen: %v, %v after %v; want the store's error, as a guest error, within the 50ms budget", i, got, err, took)
			}
		}
	})
}

// asError returns v as an error, or nil.
func asError(v any) error {
	err, _ := v.(error)
	return err
}

// TestComponentsBuildMissing starts a service whose Go component has no
// module: with build_missing on, the service builds it from source (here
// the build is warmed outside the race detector into the same cache, which
// the service then finds by its source hash).
func TestComponentsBuildMissing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go component")
	}
	src, err := filepath.Abs("../examples/components/echo")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	if err := wasmtest.Warm(cache, src); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(src, filepath.Join(dir, "echo")); err != nil {
		t.Fatal(err)
	}
	r := start(t, componentEnv(dir, cache))
	if got, err := r.ask(t, "echo", "built from source"); err != nil || string(got.([]byte)) != "built from source" {
		t.Fatalf("echo = %v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(src, "echo.wasm")); err == nil {
		t.Error("the dev build wrote into the source directory; it belongs in the cache")
	}
}
