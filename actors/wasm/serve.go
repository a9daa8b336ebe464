package wasm

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The serve loop keeps the message path to one wasm call per instance
// lifetime rather than one per message.
//
// The watchdog can only stop a guest compiled with termination checks
// (WithCloseOnContextDone), and wazero v1.12 starts a goroutine for every
// call into such a module, whatever the context. The goroutine is cheap in
// CPU but not in latency: it wakes an idle P, and a 64-byte request round
// trip measured 3.2 µs with one call per message against 1.3 µs without
// the checks. So each instance gets a companion module, loopWASM, whose one
// export loops forever: it asks the host for the next operation
// (troupe_loop.next, which also takes the previous operation's result),
// calls the component's troupe_alloc or troupe_receive directly (a
// wasm-to-wasm call, no goroutine). The host runs that call as a coroutine (iter.Pull):
// next parks it and switches back to the actor's goroutine, on the same
// thread, until the actor has the next message. The loop module is the
// outermost module of the call, so it is the one the watchdog closes, and
// the termination checks compiled into the component's loops see it closed.
//
// troupe_init, troupe_health and troupe_stop are rare and are still called
// directly.

// loopWAT is the source of loopWASM; TestLoopWASMMatchesSource checks that
// wat2wasm turns the one into the other.
const loopWAT = `(module
  (import "troupe_loop" "next" (func $next (param i64) (result i32 i32 i32 i32)))
  (import "component" "troupe_alloc" (func $alloc (param i32) (result i32)))
  (import "component" "troupe_receive" (func $receive (param i32 i32 i32) (result i64)))
  (func (export "serve")
    (local $op i32) (local $a i32) (local $b i32) (local $c i32) (local $result i64)
    (loop $messages
      (call $next (local.get $result))
      (local.set $c) (local.set $b) (local.set $a) (local.set $op)
      (block $stop
        (block $receive
          (block $alloc
            (br_table $stop $alloc $receive $stop (local.get $op)))
          (local.set $result (i64.extend_i32_u (call $alloc (local.get $a))))
          (br $messages))
        (local.set $result (call $receive (local.get $a) (local.get $b) (local.get $c)))
        (br $messages)))))
`

// loopWASM is loopWAT assembled: 186 bytes.
var loopWASM = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x18, 0x04, 0x60, 0x01, 0x7e, 0x04, 0x7f,
	0x7f, 0x7f, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7e, 0x60,
	0x00, 0x00, 0x02, 0x48, 0x03, 0x0b, 0x74, 0x72, 0x6f, 0x75, 0x70, 0x65, 0x5f, 0x6c, 0x6f, 0x6f,
	0x70, 0x04, 0x6e, 0x65, 0x78, 0x74, 0x00, 0x00, 0x09, 0x63, 0x6f, 0x6d, 0x70, 0x6f, 0x6e, 0x65,
	0x6e, 0x74, 0x0c, 0x74, 0x72, 0x6f, 0x75, 0x70, 0x65, 0x5f, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x00,
	0x01, 0x09, 0x63, 0x6f, 0x6d, 0x70, 0x6f, 0x6e, 0x65, 0x6e, 0x74, 0x0e, 0x74, 0x72, 0x6f, 0x75,
	0x70, 0x65, 0x5f, 0x72, 0x65, 0x63, 0x65, 0x69, 0x76, 0x65, 0x00, 0x02, 0x03, 0x02, 0x01, 0x03,
	0x07, 0x09, 0x01, 0x05, 0x73, 0x65, 0x72, 0x76, 0x65, 0x00, 0x03, 0x0a, 0x3d, 0x01, 0x3b, 0x02,
	0x04, 0x7f, 0x01, 0x7e, 0x03, 0x40, 0x20, 0x04, 0x10, 0x00, 0x21, 0x03, 0x21, 0x02, 0x21, 0x01,
	0x21, 0x00, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0e, 0x03, 0x02, 0x00, 0x01, 0x02,
	0x0b, 0x20, 0x01, 0x10, 0x01, 0xad, 0x21, 0x04, 0x0c, 0x02, 0x0b, 0x20, 0x01, 0x20, 0x02, 0x20,
	0x03, 0x10, 0x02, 0x21, 0x04, 0x0c, 0x01, 0x0b, 0x0b, 0x0b,
}

// Operations of the serve loop, as troupe_loop.next returns them.
const (
	opStop    = 0
	opAlloc   = 1
	opReceive = 2
)

// errLoopEnded is the serve loop's error when its call ended without one:
// only a bug (the loop returning on a stop nobody asked for) gets here.
var errLoopEnded = errors.New("the serve loop ended")

// serveLoop is an instance's running serve call and the operation it is
// handed. Only the actor's goroutine and the coroutine it switches to touch
// it, one at a time, so it needs no lock.
type serveLoop struct {
	next    func() (struct{}, bool)
	stop    func()
	yield   func(struct{}) bool
	started bool
	op      [4]uint32
	result  uint64
	err     error // why the serve call ended
}

// defineLoop instantiates the troupe_loop host module in rt and compiles
// the loop module for it.
func defineLoop(ctx context.Context, rt wazero.Runtime) (wazero.CompiledModule, error) {
	_, err := rt.NewHostModuleBuilder("troupe_loop").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(loopNext), []api.ValueType{api.ValueTypeI64},
		[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}).Export("next").
		Instantiate(ctx)
	if err != nil {
		return nil, err
	}
	return rt.CompileModule(ctx, loopWASM)
}

// loopNext is troupe_loop.next: it records the previous operation's result,
// parks the serve call until the actor has an operation for it (at once for
// the first), then returns it.
func loopNext(ctx context.Context, _ api.Module, stack []uint64) {
	env := instanceFrom(ctx)
	if env == nil || env.loop == nil {
		stack[0] = opStop
		return
	}
	s := env.loop
	s.result = stack[0]
	if s.started && !s.yield(struct{}{}) {
		stack[0] = opStop
		return
	}
	s.started = true
	stack[0], stack[1], stack[2], stack[3] = uint64(s.op[0]), uint64(s.op[1]), uint64(s.op[2]), uint64(s.op[3])
}

// startLoop instantiates in's loop module, bound to its component
// instance, and prepares the coroutine; the serve call starts with the
// first operation.
func (in *instance) startLoop(ctx context.Context) error {
	mod, err := in.v.wrt.InstantiateModule(in.bindTo(ctx), in.v.loop, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return fmt.Errorf("wasm: component %q: binding the serve loop: %w", in.v.name, err)
	}
	serve := mod.ExportedFunction("serve")
	s := &serveLoop{}
	s.next, s.stop = iter.Pull(func(yield func(struct{}) bool) {
		s.yield = yield
		err := serve.CallWithStack(in.ctx, nil)
		if err == nil {
			err = errLoopEnded
		}
		s.err = err
	})
	in.loopMod, in.env.loop = mod, s
	return nil
}

// exec runs one operation in the serve loop under the component's
// deadline and returns its result. A timeout or a trap ends the loop, and
// is a *failure.
func (in *instance) exec(op, a, b, c uint32) (uint64, error) {
	s := in.env.loop
	s.op = [4]uint32{op, a, b, c}
	wd := in.v.rt.watchdog
	in.env.deadline.Store(nowNano() + int64(in.v.timeout))
	if !wd.begin() {
		in.env.deadline.Store(0)
		return 0, in.timedOut(opName(op))
	}
	_, ok := s.next()
	wd.end()
	if in.env.deadline.Swap(0) == killedDeadline {
		return 0, in.timedOut(opName(op))
	}
	if !ok {
		return 0, &failure{reason: "trap", err: fmt.Errorf("%w: component %q, in %s: %w", ErrTrap, in.v.name, opName(op), s.err)}
	}
	return s.result, nil
}

// opName names an operation's export for an error message.
func opName(op uint32) string {
	if op == opAlloc {
		return "troupe_alloc"
	}
	return "troupe_receive"
}

// stopLoop ends the serve call, if it started, and closes the loop module.
func (in *instance) stopLoop() {
	if in.env.loop == nil {
		return
	}
	in.env.loop.stop()
	_ = in.loopMod.Close(context.Background())
}
