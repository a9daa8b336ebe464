package wasm

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// The exports called outside the serve loop — troupe_init, troupe_health
// and troupe_stop — are called through a trampoline: a module of one
// function, bound to the component's instance, that calls the export. The
// trampoline is then the outermost module of the call, so it is the one
// the watchdog closes when the call overruns, as the loop module is for
// messages (serve.go).
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
	exportInit directExport = iota
	exportHealth
	exportStop
	directExports // how many there are
)

// directNames are the exports' names, by directExport.
var directNames = [directExports]string{"troupe_init", "troupe_health", "troupe_stop"}

func (e directExport) String() string { return directNames[e] }

// trampolineWASM is the trampoline of the export name: its one export,
// "call", calls "component"."name", which takes nothing and returns an
// i32 when result is set. It is the binary wat2wasm makes of
//
//	(module
//	  (import "component" "<name>" (func $f (result i32)))
//	  (func (export "call") (result i32) (call $f)))
//
// (TestTrampolineWASMMatchesSource), written out here rather than
// embedded three times. name must be shorter than 128 bytes, so that
// every length fits one LEB128 byte.
func trampolineWASM(name string, result bool) []byte {
	funcType := []byte{0x01, 0x60, 0x00, 0x00} // one type: () -> ()
	if result {
		funcType = []byte{0x01, 0x60, 0x00, 0x01, 0x7f} // () -> (i32)
	}
	const module = "component"
	imports := []byte{0x01, byte(len(module))}
	imports = append(imports, module...)
	imports = append(imports, byte(len(name)))
	imports = append(imports, name...)
	imports = append(imports, 0x00, 0x00) // a function, of type 0
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	b = appendSection(b, 0x01, funcType)
	b = appendSection(b, 0x02, imports)
	b = appendSection(b, 0x03, []byte{0x01, 0x00})                                 // one function, of type 0
	b = appendSection(b, 0x07, []byte{0x01, 0x04, 'c', 'a', 'l', 'l', 0x00, 0x01}) // "call" is function 1
	b = appendSection(b, 0x0a, []byte{0x01, 0x04, 0x00, 0x10, 0x00, 0x0b})         // call 0, end
	return b
}

// appendSection appends a section of id with contents to b.
func appendSection(b []byte, id byte, contents []byte) []byte {
	b = append(b, id, byte(len(contents)))
	return append(b, contents...)
}

// compileTrampolines compiles the trampoline of each direct export that cm
// has, in wrt; an export cm lacks gets nil.
func compileTrampolines(ctx context.Context, wrt wazero.Runtime, cm wazero.CompiledModule) (out [directExports]wazero.CompiledModule, err error) {
	exported := cm.ExportedFunctions()
	for e := range directExports {
		fn := exported[e.String()]
		if fn == nil {
			continue
		}
		if out[e], err = wrt.CompileModule(ctx, trampolineWASM(e.String(), len(fn.ResultTypes()) == 1)); err != nil {
			return out, fmt.Errorf("compiling the trampoline of %s: %w", e, err)
		}
	}
	return out, nil
}

// trampoline is one instance's bound trampoline for a direct export.
type trampoline struct {
	mod  api.Module
	call api.Function
}

// trampoline returns in's trampoline for e, instantiating it on first use
// (init runs once and stop once per instance; only health repeats), or
// nil when the component does not export e.
func (in *instance) trampoline(e directExport) (*trampoline, error) {
	if t := in.tramps[e]; t != nil {
		return t, nil
	}
	compiled := in.v.tramps[e]
	if compiled == nil {
		return nil, nil
	}
	resolve := experimental.WithImportResolver(context.Background(), func(name string) api.Module {
		if name == "component" {
			return in.mod
		}
		return nil
	})
	mod, err := in.v.wrt.InstantiateModule(resolve, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("wasm: component %q: binding %s: %w", in.v.name, e, err)
	}
	t := &trampoline{mod: mod, call: mod.ExportedFunction("call")}
	in.tramps[e] = t
	return t, nil
}

// closeTrampolines closes the trampolines in made.
func (in *instance) closeTrampolines() {
	for _, t := range in.tramps {
		if t != nil {
			_ = t.mod.Close(context.Background())
		}
	}
}
