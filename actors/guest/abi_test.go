package guest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

const i32, i64 = api.ValueTypeI32, api.ValueTypeI64

// signature is a function type, as the ABI documents it.
type signature struct {
	params, results []api.ValueType
}

func sig(results []api.ValueType, params ...api.ValueType) signature {
	return signature{params: params, results: results}
}

var (
	none  []api.ValueType
	toI32 = []api.ValueType{i32}
	toI64 = []api.ValueType{i64}
)

// hostFunctions are the imports of module troupe in docs/wasm-abi.md.
var hostFunctions = map[string]signature{
	"result_read": sig(toI64, i32, i32),
	"send":        sig(toI64, i32, i32, i32, i32),
	"request":     sig(toI64, i32, i32, i32, i32, i32),
	"publish":     sig(toI64, i32, i32, i32, i32),
	"subscribe":   sig(toI64, i32, i32),
	"log":         sig(toI64, i32, i32, i32),
	"kv_get":      sig(toI64, i32, i32, i32, i32),
	"kv_put":      sig(toI64, i32, i32, i32, i32, i32, i32),
	"kv_delete":   sig(toI64, i32, i32, i32, i32),
	"http_fetch":  sig(toI64, i32, i32),
	"now":         sig(toI64),
	"random":      sig(toI64, i32, i32),
	"self":        sig(toI64),
}

// guestExports are the function exports of docs/wasm-abi.md; the SDK
// exports all of them, optional ones included.
var guestExports = map[string]signature{
	"troupe_abi_v1":  sig(none),
	"troupe_alloc":   sig(toI32, i32),
	"troupe_receive": sig(toI64, i32, i32, i32),
	"_initialize":    sig(none),
	"troupe_init":    sig(toI32),
	"troupe_health":  sig(toI32),
	"troupe_stop":    sig(none),
}

// abiBuilds memoises abiBuild by directory: the ABI and end-to-end tests
// share the builds, which dominate their run time.
var abiBuilds sync.Map // dir → *abiModule

type abiModule struct {
	once sync.Once
	wasm []byte
	err  error
}

// abiBuild compiles the component in dir for wasip1 as a reactor.
func abiBuild(t *testing.T, dir string) []byte {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	v, _ := abiBuilds.LoadOrStore(dir, &abiModule{})
	m := v.(*abiModule)
	m.once.Do(func() {
		tmp, err := os.MkdirTemp("", "guest-abi-")
		if err != nil {
			m.err = err
			return
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, "c.wasm")
		cmd := exec.Command(goCmd, "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			m.err = fmt.Errorf("building %s: %v\n%s", dir, err, b)
			return
		}
		m.wasm, m.err = os.ReadFile(out)
	})
	if m.err != nil {
		t.Fatal(m.err)
	}
	return m.wasm
}

// TestComponentsSpeakABI builds every example component, and a component
// using every host function, and checks that the modules export what the
// ABI requires and import only the ABI's functions with its signatures.
// It catches drift between the SDK and docs/wasm-abi.md.
func TestComponentsSpeakABI(t *testing.T) {
	dirs := []string{filepath.Join("testdata", "allcalls")}
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "components", "*", "main.go"))
	if err != nil || len(examples) < 4 {
		t.Fatalf("found examples %v (%v), want at least 4", examples, err)
	}
	for _, e := range examples {
		dirs = append(dirs, filepath.Dir(e))
	}
	// The interpreter only decodes and validates, which is all this test
	// needs, and is much faster than compiling under the race detector.
	rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(context.Background()) })
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			mod, err := rt.CompileModule(context.Background(), abiBuild(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer mod.Close(context.Background())
			checkExports(t, mod)
			imported := checkImports(t, mod)
			if filepath.Base(dir) == "allcalls" && len(imported) != len(hostFunctions) {
				t.Errorf("allcalls imports %v, want every host function", imported)
			}
		})
	}
}

func checkExports(t *testing.T, mod wazero.CompiledModule) {
	t.Helper()
	if _, ok := mod.ExportedMemories()["memory"]; !ok {
		t.Error("no memory export")
	}
	exported := mod.ExportedFunctions()
	for name, want := range guestExports {
		def, ok := exported[name]
		if !ok {
			t.Errorf("export %s missing", name)
			continue
		}
		if got := (signature{def.ParamTypes(), def.ResultTypes()}); !sameSignature(got, want) {
			t.Errorf("export %s has signature %v, want %v", name, got, want)
		}
	}
}

// checkImports checks every function import and returns the troupe
// functions imported.
func checkImports(t *testing.T, mod wazero.CompiledModule) []string {
	t.Helper()
	var troupe []string
	for _, def := range mod.ImportedFunctions() {
		module, name, _ := def.Import()
		switch module {
		case "wasi_snapshot_preview1":
		case "troupe":
			troupe = append(troupe, name)
			want, ok := hostFunctions[name]
			if !ok {
				t.Errorf("imports troupe.%s, which the ABI does not define", name)
				continue
			}
			if got := (signature{def.ParamTypes(), def.ResultTypes()}); !sameSignature(got, want) {
				t.Errorf("import troupe.%s has signature %v, want %v", name, got, want)
			}
		default:
			t.Errorf("imports %s.%s: only troupe and wasi_snapshot_preview1 exist", module, name)
		}
	}
	if len(mod.ImportedMemories()) != 0 {
		t.Error("imports a memory; the guest must export its own")
	}
	return troupe
}

func sameSignature(a, b signature) bool {
	return slices.Equal(a.params, b.params) && slices.Equal(a.results, b.results)
}
