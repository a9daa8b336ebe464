package wasm

import (
	"bytes"
	"testing"
)

// TestLoopWASMMatchesSource keeps the embedded serve loop honest: it must
// be exactly what wat2wasm makes of loopWAT.
func TestLoopWASMMatchesSource(t *testing.T) {
	if got := rtCompileWAT(t, loopWAT); !bytes.Equal(got, loopWASM) {
		t.Fatalf("loopWASM (%d bytes) differs from wat2wasm(loopWAT) (%d bytes): regenerate it", len(loopWASM), len(got))
	}
}
