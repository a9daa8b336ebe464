package wasm

import (
	"bytes"
	"testing"
)

// TestTrampolineWASMMatchesSource keeps trampolineWASM honest: for every
// direct export, with and without a result, it must be exactly what
// wat2wasm makes of the source its comment gives.
func TestTrampolineWASMMatchesSource(t *testing.T) {
	for _, name := range directNames {
		for _, result := range []bool{true, false} {
			sig := ""
			if result {
				sig = " (result i32)"
			}
			src := `(module
  (import "component" "` + name + `" (func $f` + sig + `))
  (func (export "call")` + sig + ` (call $f)))`
			if got, want := trampolineWASM(name, result), rtCompileWAT(t, src); !bytes.Equal(got, want) {
				t.Errorf("trampolineWASM(%q, %v) = % x,\nwat2wasm makes % x", name, result, got, want)
			}
		}
	}
}
