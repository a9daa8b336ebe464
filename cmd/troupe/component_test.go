package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/actors/wasm/wasmtest"
)

// componentModule makes a module that requires this checkout of Troupe, so
// a component in it builds as one in a user's service would.
func componentModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "go.mod", fmt.Sprintf("module example.com/svc\n\ngo 1.26.0\n\nrequire github.com/troupehq/troupe %s\n\nreplace github.com/troupehq/troupe => %s\n", placeholderVersion, root))
	writeFile(t, dir, "go.sum", string(sum))
	return dir
}

// TestComponentNewBuildInspect walks a component's life: scaffold it,
// grant it more than it uses, build it as dev mode does, inspect it.
func TestComponentNewBuildInspect(t *testing.T) {
	mod := componentModule(t)
	writeFile(t, mod, "components/.keep", "")
	code, stdout, stderr := runCLI(t, mod, nil, "component", "new", "billing")
	dir := filepath.Join(mod, "components", "billing")
	if code != 0 || !strings.Contains(stdout, "created component billing in components/billing") {
		t.Fatalf("new: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, mod, nil, "component", "new", "billing"); code != exitFailed || !strings.Contains(stderr, "is not empty") {
		t.Errorf("new into an existing component: exit %d %q", code, stderr)
	}
	manifest := filepath.Join(dir, "Component.toml")
	toml, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	granted := strings.Replace(string(toml), "capabilities = []", `capabilities = ["kv:write:billing", "actor:send:ledger"]`, 1)
	writeFile(t, dir, "Component.toml", granted)

	// Build and compile outside the race detector (wazero compiles ~20x
	// slower under it); the command then finds both in the cache.
	cache := t.TempDir()
	if err := wasmtest.Warm(cache, dir); err != nil {
		t.Fatal(err)
	}
	c := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cl := &cli{stdout: &out, stderr: &errOut, dir: mod, cacheDir: cache}
		code := cl.run(t.Context(), args)
		return code, out.String(), errOut.String()
	}
	code, stdout, stderr = c("component", "build", "components/billing")
	if code != 0 || !strings.Contains(stdout, "built "+filepath.Join(mod, "components/billing/billing.wasm")) || !strings.Contains(stdout, "it loads") {
		t.Fatalf("build: exit %d\n%s%s", code, stdout, stderr)
	}
	module, err := os.ReadFile(filepath.Join(dir, "billing.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	devBuilds, _ := buildsOf(filepath.Join(cache, "build"), "billing")
	devBuild, err := os.ReadFile(devBuilds[0])
	if err != nil || !bytes.Equal(module, devBuild) {
		t.Errorf("the module written is not dev mode's build (%v)", err)
	}

	code, stdout, stderr = c("component", "inspect", "components/billing")
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"component billing 0.1.0: Greets by name.",
		fmt.Sprintf("sha256 %x", sha256.Sum256(module)),
		"troupe_receive               func (i32 i32 i32) -> i64",
		"ABI v1: ok",
		"troupe.log ",
		"capped at 512 pages by runtime.max_memory_mb = 32",
		"kv:write:billing                         OVER-GRANTED: the module imports none of troupe.kv_put, troupe.kv_delete",
		"actor:send:ledger                        OVER-GRANTED: the module imports none of troupe.send",
		"over-granted: kv:write:billing, actor:send:ledger",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}

	// A pin the build does not match leaves the module alone and says why.
	writeFile(t, dir, "Component.toml", strings.Replace(granted, "[component]\n", "[component]\nsha256 = \""+strings.Repeat("0", 64)+"\"\n", 1))
	code, _, stderr = c("component", "build", "components/billing")
	if code != exitFailed || !strings.Contains(stderr, fmt.Sprintf("the build's is %x", sha256.Sum256(module))) {
		t.Errorf("build against a wrong pin: exit %d %q", code, stderr)
	}
	if code, stdout, _ := c("component", "inspect", "components/billing"); code != 0 || !strings.Contains(stdout, "sha256 pin: MISMATCH") {
		t.Errorf("inspect with a wrong pin: exit %d\n%s", code, stdout)
	}
}

// TestInspectBadInput: truncated, foreign and missing modules are clear
// errors with exit 1.
func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "text.wasm", "(module)")
	writeFile(t, dir, "cut.wasm", "\x00asm\x01\x00\x00\x00\x02\x40\x01")
	writeFile(t, dir, "noabi.wasm", "\x00asm\x01\x00\x00\x00")
	for target, want := range map[string]string{
		"text.wasm":    "not a WebAssembly module",
		"cut.wasm":     "truncated",
		"missing.wasm": "no such file",
		"noabi.wasm":   "", // parses; fails the ABI
	} {
		code, stdout, stderr := runCLI(t, dir, nil, "component", "inspect", target)
		if code != exitFailed || !strings.Contains(stderr, want) {
			t.Errorf("inspect %s: exit %d %q", target, code, stderr)
		}
		if target == "noabi.wasm" && !strings.Contains(stdout, "ABI v1: NOT MET: missing memory; missing troupe_abi_v1") {
			t.Errorf("inspect %s: %s", target, stdout)
		}
	}
	writeFile(t, dir, "comp/Component.toml", "[component]\nname = \"x\"\nversion = \"1.0.0\"\nwasm = \"x.wasm\"\n")
	if code, _, stderr := runCLI(t, dir, nil, "component", "inspect", "comp"); code != exitFailed || !strings.Contains(stderr, "troupe component build") {
		t.Errorf("inspect a component without its module: exit %d %q", code, stderr)
	}
	writeFile(t, dir, "bad/Component.toml", "[component]\nname = \"x\"\nwasm = \"x.wasm\"\n[runtime]\nmax_memry_mb = 1\n")
	if code, _, stderr := runCLI(t, dir, nil, "component", "inspect", "bad"); code != exitFailed || !strings.Contains(stderr, "runtime.max_memry_mb") {
		t.Errorf("inspect a bad manifest: exit %d %q", code, stderr)
	}
}

// FuzzInspect runs the whole inspect command on arbitrary module bytes,
// beside a manifest that grants every kind: no input may panic it.
func FuzzInspect(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x04\x01\x01\x05\x01"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x0d\x01\x06troupe\x04send\x00\x00"))
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Component.toml"), []byte(`[component]
name = "fuzz"
wasm = "m.wasm"
[security]
capabilities = ["kv:read:a", "kv:write:a", "actor:send:*", "actor:request:*", "topic:publish:a", "topic:subscribe:a", "network:outbound:example.com:443", "file:read:/tmp"]
`), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "m.wasm"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		c := &cli{stdout: &out, stderr: &errOut}
		if code := c.run(t.Context(), []string{"component", "inspect", dir}); code != exitOK && code != exitFailed {
			t.Fatalf("exit %d", code)
		}
	})
}
