package wasm

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// The exports called outside the serve loop — _initialize (which wazero
// would otherwise run as a start function, closing the module itself when
// it overran), troupe_init, troupe_health and troupe_stop — are called
// through a trampoline: a module bound to the component's instance that
// exports a function calling each of them. The trampoline is then the
// outermost module of the call, so it is the one the watchdog closes when
// the call overruns, as the loop module is for messages (serve.go).
//
// Why not close the component's own module: closing a module frees its
// memory (wazero's ensureResourcesClosed calls the allocator's Free and
// clears MemoryInstance.expBuffer) while the guest, on another goroutine,
// may be inside memory.grow, which reads that field first. wazero v1.12
// does the two with no synchronization, and the race detector reports it
// (TestModuleClosedUnderARunningGuest failed CI that way). A trampoline
// and the loop module have no memory, so closing them touches nothing the
// guest reads; the component's module is closed only once no call runs in
// it (instance.close, and Runtime.Close after halting every call).

// directExport names an export called through a trampoline.
type directExport int

const (
	exportInitialize directExport = iota
	exportInit
	exportHealth
	exportStop
	directExports // how many there are
)

// directNames are the exports' names, by directExport.
var directNames = [directExports]string{"_initialize", "troupe_init", "troupe_health", "troupe_stop"}

func (e directExport) String() string { return directNames[e] }

// trampolineWASM is the trampoline of the exports has marks, whose
// signatures result gives (true: () -> i32, false: () -> ()): a module
// that imports each from "component" and exports, under the same name, a
// function that calls it. It is the binary wat2wasm makes of, for
// _initialize and troupe_health,
//
//	(module
//	  (import "component" "_initialize" (func $f0))
//	  (import "component" "troupe_health" (func $f1 (result i32)))
//	  (func (export "_initialize") (call $f0))
//	  (func (export "troupe_health") (result i32) (call $f1)))
//
// (TestTrampolineWASMMatchesSource), written out here rather than
// embedded once for each of the sixteen sets of exports.
func trampolineWASM(has, result [directExports]bool) []byte {
	var n byte // imports, and so defined functions
	for _, h := range has {
		if h {
			n++
		}
	}
	var types, imports, funcs, exports, code []byte
	var sigs [][]byte // the distinct signatures, in order of first use
	var i byte        // the import, and the function defined, at hand
	for e := range directExports {
		if !has[e] {
			continue
		}
		sig := []byte{0x60, 0x00, 0x00} // () -> ()
		if result[e] {
			sig = []byte{0x60, 0x00, 0x01, 0x7f} // () -> (i32)
		}
		typ := slices.IndexFunc(sigs, func(s []byte) bool { return bytes.Equal(s, sig) })
		if typ < 0 {
			typ = len(sigs)
			sigs = append(sigs, sig)
			types = append(types, sig...)
		}
		imports = appendName(appendName(imports, "component"), e.String())
		imports = append(imports, 0x00, byte(typ)) // a function, of type typ
		funcs = append(funcs, byte(typ))
		// Function n+i, exported under the import's name, calls import
		// i: no locals, call i, end.
		exports = append(appendName(exports, e.String()), 0x00, n+i)
		code = append(code, 0x04, 0x00, 0x10, i, 0x0b)
		i++
	}
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	b = appendSection(b, 0x01, byte(len(sigs)), types)
	b = appendSection(b, 0x02, n, imports)
	b = appendSection(b, 0x03, n, funcs)
	b = appendSection(b, 0x07, n, exports)
	return appendSection(b, 0x0a, n, code)
}

// appendName appends a length-prefixed name. Every length here, and every
// section's below, is under 128, so its LEB128 encoding is one byte.
func appendName(b []byte, name string) []byte {
	return append(append(b, byte(len(name))), name...)
}

// appendSection appends section id holding count entries.
func appendSection(b []byte, id, count byte, entries []byte) []byte {
	b = append(b, id, byte(1+len(entries)), count)
	return append(b, entries...)
}

// compileTrampoline compiles, in wrt, the trampoline of the direct exports
// cm has, or returns nil when it has none.
func compileTrampoline(ctx context.Context, wrt wazero.Runtime, cm wazero.CompiledModule) (wazero.CompiledModule, [directExports]bool, error) {
	var has, result [directExports]bool
	some, exported := false, cm.ExportedFunctions()
	for e := range directExports {
		if fn := exported[e.String()]; fn != nil {
			has[e], result[e], some = true, len(fn.ResultTypes()) == 1, true
		}
	}
	if !some {
		return nil, has, nil
	}
	compiled, err := wrt.CompileModule(ctx, trampolineWASM(has, result))
	if err != nil {
		return nil, has, fmt.Errorf("compiling the trampoline: %w", err)
	}
	return compiled, has, nil
}

// trampoline is one instance's bound trampoline.
type trampoline struct {
	mod   api.Module
	funcs [directExports]api.Function
}

// trampoline returns in's trampoline, instantiating it on first use. It
// lives as long as the instance, and its exports share it: making one
// costs about 13 µs, a seventh of a small component's cold spawn, which a
// module per export paid up to four times (docs/benchmarks.md).
func (in *instance) trampoline() (*trampoline, error) {
	if in.tramp != nil {
		return in.tramp, nil
	}
	mod, err := in.v.wrt.InstantiateModule(in.bindTo(context.Background()), in.v.tramp, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("wasm: component %q: binding its trampoline: %w", in.v.name, err)
	}
	t := &trampoline{mod: mod}
	for e := range directExports {
		t.funcs[e] = mod.ExportedFunction(e.String())
	}
	in.tramp = t
	return t, nil
}

// bindTo returns ctx with an import resolver that makes in's module the
// "component" a companion module (the serve loop, the trampoline)
// imports.
func (in *instance) bindTo(ctx context.Context) context.Context {
	return experimental.WithImportResolver(ctx, func(name string) api.Module {
		if name == "component" {
			return in.mod
		}
		return nil
	})
}

// once drops in's handle on the export e, which runs once per instance:
// a handle keeps the call stack of its last call. Dropping those of
// _initialize and troupe_init took a Go guest's instance from 208 to 185
// KB of Go heap (BenchmarkComponentInstanceMemory).
func (in *instance) once(e directExport) {
	if in.tramp != nil {
		in.tramp.funcs[e] = nil
	}
}

// closeTrampoline closes in's trampoline, if made.
func (in *instance) closeTrampoline() {
	if in.tramp != nil {
		_ = in.tramp.mod.Close(context.Background())
	}
}
