package wasm

import (
	"bytes"
	"strconv"
	"testing"
)

// TestTrampolineWASMMatchesSource keeps trampolineWASM honest: for every
// set of direct exports, each with and without a result, it must be
// exactly what wat2wasm makes of the source its comment describes.
func TestTrampolineWASMMatchesSource(t *testing.T) {
	for set := 1; set < 1<<directExports; set++ {
		for _, withResults := range []bool{true, false} {
			var has, result [directExports]bool
			var imports, funcs string
			for e := range directExports {
				if set&(1<<e) == 0 {
					continue
				}
				has[e], result[e] = true, withResults && e != exportInitialize
				sig := ""
				if result[e] {
					sig = " (result i32)"
				}
				f := "$f" + strconv.Itoa(int(e))
				imports += "\n  (import \"component\" \"" + e.String() + "\" (func " + f + sig + "))"
				funcs += "\n  (func (export \"" + e.String() + "\")" + sig + " (call " + f + "))"
			}
			src := "(module" + imports + funcs + ")"
			if got, want := trampolineWASM(has, result), rtCompileWAT(t, src); !bytes.Equal(got, want) {
				t.Errorf("trampolineWASM for\n%s\n= % x,\nwat2wasm makes % x", src, got, want)
			}
		}
	}
}
