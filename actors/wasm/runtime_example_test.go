package wasm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
)

// rtExampleComponent writes a component directory holding the test echo
// guest, compiled from WAT; a real component ships its .wasm.
func rtExampleComponent() (string, error) {
	dir, err := os.MkdirTemp("", "component")
	if err != nil {
		return "", err
	}
	out, err := exec.Command("wat2wasm", "-o", filepath.Join(dir, "echo.wasm"), "testdata/wat/rt_echo.wat").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wat2wasm: %v: %s", err, out)
	}
	toml := "[component]\nname = \"echo\"\nversion = \"1.0.0\"\nwasm = \"echo.wasm\"\n"
	return dir, os.WriteFile(filepath.Join(dir, "Component.toml"), []byte(toml), 0o644)
}

func ExampleRuntime() {
	dir, err := rtExampleComponent()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sys := actors.NewSystem()
	defer sys.Shutdown(ctx)
	rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{System: sys, WarmInstances: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(ctx)

	m, err := wasm.LoadManifest(filepath.Join(dir, "Component.toml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := rt.Load(ctx, m)
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, err := rt.Spawn(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, err := sys.Request(ctx, ref, "hello")
	fmt.Printf("%s %v\n", reply, err)
	reply, err = sys.Request(ctx, ref, "err:no such note")
	fmt.Println(reply, err)
	// Output:
	// hello <nil>
	// wasm: component "echo": no such note <nil>
}
