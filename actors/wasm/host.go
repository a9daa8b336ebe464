package wasm

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// hostModule is the import module name of every Troupe host function.
const hostModule = "troupe"

const (
	// maxNameBytes bounds an actor name, subject or pattern read from the
	// guest: longer ones cannot be granted, and bounding them keeps audit
	// records and error messages small.
	maxNameBytes = 255
	// maxRetainedResult is the largest pending-result buffer an idle
	// instance keeps for reuse; a bigger one is dropped after a small result
	// so that one large reply does not pin memory for the instance's life.
	maxRetainedResult = 64 << 10
)

// hostFunc is one host function: its ABI name, its i32 parameters, and its
// body, which returns the ABI result (a length, or a negated error code).
// Every function returns one i64.
type hostFunc struct {
	name   string
	params int // number of i32 parameters
	fn     func(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64
}

// hostFuncs is the whole ABI v1 host module, in the order of the ABI doc.
var hostFuncs = []hostFunc{
	{"result_read", 2, hostResultRead},
	{"send", 4, hostSend},
	{"request", 5, hostRequest},
	{"publish", 4, hostPublish},
	{"subscribe", 2, hostSubscribe},
	{"log", 3, hostLog},
	{"kv_get", 4, hostKVGet},
	{"kv_put", 6, hostKVPut},
	{"kv_delete", 4, hostKVDelete},
	{"http_fetch", 2, hostHTTPFetch},
	{"now", 0, hostNow},
	{"random", 2, hostRandom},
	{"self", 0, hostSelf},
}

// defineHost instantiates the "troupe" host module in rt. Its functions are
// stack-based Go functions (no reflection, no per-call allocation) that find
// the calling instance in the call's context (see withInstance) and never
// trap the guest: every failure, a nil instance included, is an error code.
func defineHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(hostModule)
	i32s := []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32,
		api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}
	i64 := []api.ValueType{api.ValueTypeI64}
	for _, h := range hostFuncs {
		b.NewFunctionBuilder().
			WithGoModuleFunction(wrapHost(h.fn), i32s[:h.params], i64).
			WithName(h.name).
			Export(h.name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("wasm: defining host module %q: %w", hostModule, err)
	}
	return nil
}

// wrapHost adapts fn to wazero: it resolves the instance and its memory,
// and stores fn's result in the single result slot.
func wrapHost(fn func(context.Context, *instanceEnv, api.Memory, []uint64) int64) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		env := instanceFrom(ctx)
		mem := mod.Memory()
		if env == nil || mem == nil {
			// No instance means no pending-result slot to explain in; the
			// code alone tells the guest the call was malformed.
			stack[0] = api.EncodeI64(-abi.CodeInvalid)
			return
		}
		stack[0] = api.EncodeI64(fn(ctx, env, mem, stack))
	}
}

// setResult makes a copy of b the pending result. Copying keeps guest
// memory and other actors' values from aliasing each other.
func (e *instanceEnv) setResult(b []byte) {
	if cap(e.result) > maxRetainedResult && len(b) <= maxRetainedResult {
		e.result = nil
	}
	e.result = append(e.result[:0], b...)
}

// succeed leaves b pending and returns its length.
func (e *instanceEnv) succeed(b []byte) int64 {
	e.setResult(b)
	return int64(len(e.result))
}

// succeedString is succeed for a string, without converting it first.
func (e *instanceEnv) succeedString(s string) int64 {
	if cap(e.result) > maxRetainedResult && len(s) <= maxRetainedResult {
		e.result = nil
	}
	e.result = append(e.result[:0], s...)
	return int64(len(e.result))
}

// fail leaves msg pending and returns -code.
func (e *instanceEnv) fail(code int64, msg string) int64 {
	e.succeedString(msg)
	return -code
}

// badArg fails with code 5 for the named argument's pointer/length pair.
func (e *instanceEnv) badArg(arg string) int64 {
	return e.fail(abi.CodeInvalid, "invalid: "+arg+" pointer or length is outside memory")
}

// tooLarge fails with code 4, naming what is over which limit.
func (e *instanceEnv) tooLarge(what string, n, limit int) int64 {
	return e.fail(abi.CodeTooLarge, "too_large: "+what+" of "+strconv.Itoa(n)+
		" bytes is over the limit of "+strconv.Itoa(limit))
}

// guestBytes returns the guest memory at stack[i] (ptr) and stack[i+1]
// (len). The slice aliases guest memory: copy it before it outlives the call.
func guestBytes(mem api.Memory, stack []uint64, i int) ([]byte, bool) {
	return mem.Read(api.DecodeU32(stack[i]), api.DecodeU32(stack[i+1]))
}

// readName reads a name (actor, subject, pattern, namespace) at stack[i],
// stack[i+1]: in bounds, non-empty and at most maxNameBytes long. On failure
// it returns the call's result (-5) as rc, which is otherwise 0.
func (e *instanceEnv) readName(mem api.Memory, stack []uint64, i int, what string) (name string, rc int64) {
	b, ok := guestBytes(mem, stack, i)
	switch {
	case !ok:
		return "", e.badArg(what)
	case len(b) == 0:
		return "", e.fail(abi.CodeInvalid, "invalid: empty "+what)
	case len(b) > maxNameBytes:
		return "", e.fail(abi.CodeInvalid, "invalid: "+what+" is longer than "+strconv.Itoa(maxNameBytes)+" bytes")
	}
	return string(b), 0
}

// hostResultRead copies up to len bytes of the pending result to ptr. The
// result stays pending, so a guest may read it in pieces from the start.
func hostResultRead(_ context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	dst, ok := guestBytes(mem, stack, 0)
	if !ok {
		return env.badArg("buffer")
	}
	return int64(copy(dst, env.result))
}
