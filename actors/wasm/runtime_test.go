package wasm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

func TestLoadRejects(t *testing.T) {
	e := rtNew(t, RuntimeOptions{MaxMemoryMB: 128})
	echoWASM := rtEcho(t, "v1")
	tests := []struct {
		name    string
		wasm    []byte
		runtime string
		pin     string
		want    []string
		is      error
	}{
		{name: "not a module", wasm: []byte("\x00asm garbage"), want: []string{"compiling"}},
		// Well formed, but invalid: a function typed () -> i32 whose body
		// leaves nothing on the stack.
		{name: "fails validation", wasm: []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b},
			want: []string{"compiling", "invalid function[0]"}},
		{name: "missing exports", wasm: rtCompileWAT(t, rtWAT(t, "rt_noabi")),
			want: []string{`missing export "troupe_abi_v1"`, `missing export "troupe_alloc"`, `export "troupe_receive" is (i32, i32) -> (i32)`}},
		{name: "sha256 mismatch", wasm: echoWASM, pin: strings.Repeat("0", 64), is: ErrSHA256Mismatch, want: []string{"component.sha256"}},
		{name: "memory over the cap", wasm: echoWASM, runtime: "max_memory_mb = 256", want: []string{"runtime.max_memory_mb", "cap of 128 MiB"}},
		{name: "missing module", want: []string{"module.wasm", "no such file"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rtComponent(t, e.dir, fmt.Sprintf("bad%d", i), tt.wasm, tt.runtime)
			m.Component.SHA256 = tt.pin
			_, err := e.rt.Load(context.Background(), m)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	wasm := rtEcho(t, "v1")
	rtComponent(t, e.dir, "zeta", wasm, "")
	rtComponent(t, e.dir, "alpha", wasm, "")
	comps, err := e.rt.LoadDir(context.Background(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 2 || comps[0].Name() != "alpha" || comps[1].Name() != "zeta" {
		t.Fatalf("LoadDir = %v, want alpha, zeta", comps)
	}

	dup := t.TempDir()
	rtComponent(t, dup, "one", wasm, "")
	m := rtComponent(t, dup, "two", wasm, "")
	rtWrite(t, filepath.Join(m.Dir, ManifestFile), []byte("[component]\nname = \"one\"\nversion = \"1\"\nwasm = \"module.wasm\"\n"))
	rtComponent(t, dup, "three", nil, "")
	e2 := rtNew(t, RuntimeOptions{})
	comps, err = e2.rt.LoadDir(context.Background(), dup)
	if err == nil || !strings.Contains(err.Error(), `"one" is also the name`) || !strings.Contains(err.Error(), "three") {
		t.Fatalf("LoadDir error = %v, want the duplicate and the missing module", err)
	}
	if len(comps) != 1 {
		t.Errorf("loaded %d components, want the one good one", len(comps))
	}
	if _, err := e2.rt.LoadDir(context.Background(), filepath.Join(dup, "nope")); err == nil {
		t.Error("LoadDir of a missing dir succeeded")
	}
}

func TestWarmInstances(t *testing.T) {
	e := rtNew(t, RuntimeOptions{WarmInstances: 1})
	c, err := e.rt.Load(context.Background(), rtComponent(t, e.dir, "warm", rtEcho(t, "v1"), ""))
	if err != nil {
		t.Fatal(err)
	}
	v := c.cur.Load()
	v.mu.Lock()
	if len(v.warm) != 1 {
		t.Fatalf("%d warm instances after Load, want 1", len(v.warm))
	}
	first := v.warm[0]
	v.mu.Unlock()
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.request(ref, "x"); err != nil {
		t.Fatal(err)
	}
	rtEventually(t, "the warm pool refilled", func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return len(v.warm) == 1 && v.warm[0] != first && v.live == 2
	})
	if first.closed {
		t.Error("the actor did not take the warm instance")
	}
}

func TestHotReload(t *testing.T) {
	e := rtNew(t, RuntimeOptions{ReloadInterval: 5 * time.Millisecond})
	m := rtComponent(t, e.dir, "live", rtEcho(t, "v1"), "")
	c, err := e.rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	version := func() string {
		got, err := e.request(ref, "version")
		if err != nil {
			t.Errorf("request during reload: %v", err)
			return ""
		}
		return string(got.([]byte))
	}
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 { // load while the module changes
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.request(ref, []byte("x")); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	old := c.cur.Load()
	rtWrite(t, m.WASMPath(), rtEcho(t, "v2"))
	rtEventually(t, "the new version serving", func() bool { return version() == "v2" })
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed during the reload", n)
	}
	rtEventually(t, "the old module closed", func() bool {
		old.mu.Lock()
		defer old.mu.Unlock()
		return old.closed
	})

	rtWrite(t, m.WASMPath(), []byte("broken"))
	if err := e.rt.Reload(context.Background(), c); err == nil {
		t.Error("Reload of a broken module succeeded")
	}
	if got := version(); got != "v2" {
		t.Errorf("after a failed reload the version is %q, want v2", got)
	}
	rtWrite(t, filepath.Join(m.Dir, ManifestFile), []byte("[component]\nname = \"other\"\nversion = \"1\"\nwasm = \"module.wasm\"\n"))
	rtWrite(t, m.WASMPath(), rtEcho(t, "v3"))
	if err := e.rt.Reload(context.Background(), c); err == nil || !strings.Contains(err.Error(), "component.name") {
		t.Errorf("Reload renaming the component: %v", err)
	}
	if got := version(); got != "v2" {
		t.Errorf("after a refused rename the version is %q, want v2", got)
	}
	if !strings.Contains(e.log.String(), "component reload failed") {
		t.Error("the failed reload was not logged")
	}
}

func TestRuntimeClose(t *testing.T) {
	sys := actors.NewSystem()
	defer sys.Shutdown(context.Background())
	if _, err := NewRuntime(context.Background(), RuntimeOptions{}); err == nil {
		t.Error("NewRuntime without a System succeeded")
	}
	rt, err := NewRuntime(context.Background(), RuntimeOptions{System: sys, CacheDir: t.TempDir(), ReloadInterval: time.Millisecond, WarmInstances: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Load(context.Background(), rtComponent(t, t.TempDir(), "c", rtEcho(t, "v1"), "")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rt.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := rt.Load(context.Background(), rtComponent(t, t.TempDir(), "d", rtEcho(t, "v1"), "")); err == nil {
		t.Error("Load after Close succeeded")
	}
}

func TestRuntimeHealthCheck(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	m := rtComponent(t, e.dir, "watched", rtEcho(t, "v1"), "")
	c, err := e.rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.rt.HealthCheck(ctx); err != nil {
		t.Fatalf("healthy runtime: %v", err)
	}
	rtWrite(t, m.WASMPath(), []byte("\x00asm broken"))
	if err := e.rt.Reload(ctx, c); err == nil {
		t.Fatal("a broken module reloaded")
	}
	if err := e.rt.HealthCheck(ctx); err == nil || !strings.Contains(err.Error(), "last reload failed") {
		t.Errorf("after a failed reload: %v", err)
	}
	rtWrite(t, m.WASMPath(), rtEcho(t, "v2"))
	if err := e.rt.Reload(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.HealthCheck(ctx); err != nil {
		t.Errorf("after a good reload: %v", err)
	}
	if err := e.sys.Stop(ref); err != nil {
		t.Fatal(err)
	}
	<-e.sys.Done(ref)
	if err := e.rt.HealthCheck(ctx); err == nil || !strings.Contains(err.Error(), `"watched": its actor is not running`) {
		t.Errorf("with the actor stopped: %v", err)
	}
}
