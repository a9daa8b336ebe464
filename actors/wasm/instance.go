package wasm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/troupehq/troupe/actors"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// instance is one instantiation of a component version: its own linear
// memory, the export handles looked up once, a reusable call stack and the
// context every call into the guest carries. It is used by one goroutine at
// a time (the actor's), so none of its fields but env.deadline need locks.
type instance struct {
	v      *version
	mod    api.Module
	mem    api.Memory
	linear *linearMemory // backs mem (linear.go); nil when mem is on the Go heap
	env    instanceEnv
	ctx    context.Context // withInstance(Background, &env): no Done channel
	wdID   int             // slot in the watchdog's table

	alloc, receive api.Function
	// loopMod runs the serve loop (serve.go) that carries troupe_alloc and
	// troupe_receive; tramp carries the other exports (direct.go), made on
	// first use; direct is set to it while one of them is called, so the
	// watchdog knows which module to close.
	loopMod        api.Module
	tramp          *trampoline
	direct         atomic.Pointer[trampoline]
	stack          []uint64
	stdout, stderr *lineWriter
	closed         bool
	// inbox is the last buffer troupe_alloc returned, inboxCap its size:
	// the ABI lets the host reuse it until it calls troupe_alloc again,
	// which saves a call into the guest — the costliest step — per message.
	inbox    uint32
	inboxCap int
	// scratch holds the last binary HTTP request encoded for the guest,
	// whose memory the next one reuses.
	scratch []byte
}

// minInbox is the smallest buffer asked of troupe_alloc, so that a stream
// of small messages needs one allocation for the instance's life.
const minInbox = 4 << 10

// failure is an error that costs the instance its life: the actor discards
// the instance and fails, so its supervisor restarts it with a fresh one.
type failure struct {
	reason string // the InstanceFailed label: timeout, trap, abi, health or closed
	err    error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// call runs the export e through its trampoline, under the component's
// deadline: the watchdog closes the trampoline if the deadline passes
// first. Its result, if any, is left in in.stack[0]. It reports false when
// the component does not export e. A timeout, or any error from the guest
// (a trap, the module closed under it), is a *failure.
func (in *instance) call(e directExport) (bool, error) {
	if !in.v.exports[e] {
		return false, nil
	}
	t, err := in.trampoline()
	if err != nil {
		return false, err
	}
	fn := t.funcs[e]
	if fn == nil {
		return false, fmt.Errorf("wasm: component %q: %s runs once per instance", in.v.name, e)
	}
	wd := in.v.rt.watchdog
	in.direct.Store(t)
	in.env.deadline.Store(nowNano() + int64(in.v.timeout))
	if !wd.begin() {
		in.direct.Store(nil)
		in.env.deadline.Store(0)
		return true, in.timedOut(e.String())
	}
	err = fn.CallWithStack(in.ctx, in.stack)
	wd.end()
	in.direct.Store(nil)
	if in.env.deadline.Swap(0) == killedDeadline {
		return true, in.timedOut(e.String())
	}
	if err != nil {
		return true, &failure{reason: "trap", err: fmt.Errorf("%w: component %q, in %s: %w", ErrTrap, in.v.name, e, err)}
	}
	return true, nil
}

// nowNano is the clock of deadlines.
func nowNano() int64 { return time.Now().UnixNano() }

// timedOut is the failure of a call to export that the watchdog stopped
// or refused: past its deadline, or because the runtime is closing.
func (in *instance) timedOut(export string) error {
	if in.v.rt.watchdog.halted.Load() {
		return &failure{reason: "closed", err: fmt.Errorf("wasm: component %q: %s stopped: %w", in.v.name, export, ErrClosed)}
	}
	return &failure{reason: "timeout", err: fmt.Errorf("wasm: component %q: %s exceeded its %v deadline: %w",
		in.v.name, export, in.v.timeout, &actors.TimeoutError{To: in.env.self})}
}

// sleep is the guest's nanosleep (WASI poll_oneoff on a clock): a real
// sleep, which Go guests need for time.Sleep, cut at the call's deadline
// (or, outside a call, at one timeout), because the watchdog's close cannot
// interrupt a host function.
func (in *instance) sleep(ns int64) {
	d := min(time.Duration(ns), in.v.timeout)
	if dl := in.env.deadline.Load(); dl > 0 {
		d = min(d, time.Until(time.Unix(0, dl)))
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// abi returns the failure for an ABI violation.
func (in *instance) abi(format string, args ...any) error {
	return &failure{reason: "abi", err: &ABIError{Component: in.v.name, Reason: fmt.Sprintf(format, args...)}}
}

// allocate returns a guest buffer of at least n bytes: the inbox when it
// is big enough, else a new one from troupe_alloc (at least minInbox, at
// most the message limit), checked to lie in memory. A zero pointer is the
// guest's out-of-memory answer, not a failure.
func (in *instance) allocate(n int) (uint32, error) {
	limit := in.v.env.limits.MaxMessageBytes
	if n > limit {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrMessageTooLarge, n, limit)
	}
	if in.inbox != 0 && n <= in.inboxCap {
		return in.inbox, nil
	}
	size := min(max(n, minInbox), limit)
	r, err := in.exec(opAlloc, uint32(size), 0, 0)
	if err != nil {
		return 0, err
	}
	ptr := uint32(r)
	if ptr == 0 {
		in.inbox, in.inboxCap = 0, 0
		return 0, fmt.Errorf("%w: troupe_alloc(%d) returned 0", ErrGuestOutOfMemory, size)
	}
	if uint64(ptr)+uint64(size) > uint64(in.mem.Size()) {
		return 0, in.abi("troupe_alloc(%d) returned %d, past the end of memory (%d bytes)", size, ptr, in.mem.Size())
	}
	in.inbox, in.inboxCap = ptr, size
	return ptr, nil
}

// send writes b into the guest's buffer and delivers it as a message of
// kind: the whole path of a message into the guest.
func (in *instance) send(kind uint32, b []byte) ([]byte, error) {
	ptr, err := in.allocate(len(b))
	if err != nil {
		return nil, err
	}
	in.mem.Write(ptr, b)
	return in.deliver(kind, ptr, len(b))
}

// discard closes an instance that failed, counts the failure and logs it;
// it returns the failure's cause, for the caller to report.
func (in *instance) discard(err error) error {
	reason, cause := "trap", err
	var f *failure
	if errors.As(err, &f) {
		reason, cause = f.reason, f.err
	}
	in.close()
	in.v.rt.stats.instanceFailed(context.Background(), in.v.name, reason)
	in.v.env.log.Warn("instance discarded", "reason", reason, "err", cause)
	return cause
}

// deliver calls troupe_receive for the n bytes at ptr and returns the reply
// as a view of guest memory, valid until the next call into the guest: the
// caller copies what it keeps. An empty reply is a nil view.
func (in *instance) deliver(kind uint32, ptr uint32, n int) ([]byte, error) {
	r, err := in.exec(opReceive, kind, ptr, uint32(n))
	if err != nil {
		return nil, err
	}
	rptr, rlen := uint32(r>>32), uint32(r)
	if rlen == 0 {
		return nil, nil
	}
	if int64(rlen) > int64(in.v.env.limits.MaxReplyBytes) {
		return nil, in.abi("reply of %d bytes is over the %d-byte limit", rlen, in.v.env.limits.MaxReplyBytes)
	}
	view, ok := in.mem.Read(rptr, rlen)
	if !ok {
		return nil, in.abi("reply [%d, +%d) is outside memory (%d bytes)", rptr, rlen, in.mem.Size())
	}
	if view[0] != abi.StatusOK && view[0] != abi.StatusError {
		return nil, in.abi("reply status byte %d is neither 0 (ok) nor 1 (error)", view[0])
	}
	return view, nil
}

// initialize runs _initialize, when exported.
func (in *instance) initialize() error {
	_, err := in.call(exportInitialize)
	in.once(exportInitialize)
	return err
}

// runInit runs troupe_init, when exported; non-zero is a failure.
func (in *instance) runInit() error {
	called, err := in.call(exportInit)
	in.once(exportInit)
	if !called || err != nil {
		return err
	}
	if code := int32(in.stack[0]); code != 0 {
		return &failure{reason: "trap", err: fmt.Errorf("wasm: component %q: troupe_init returned %d", in.v.name, code)}
	}
	return nil
}

// checkHealth runs troupe_health, when exported; non-zero or a trap is a
// "health" failure.
func (in *instance) checkHealth() error {
	called, err := in.call(exportHealth)
	if !called && err == nil {
		return nil
	}
	if err == nil && int32(in.stack[0]) != 0 {
		err = fmt.Errorf("wasm: component %q: troupe_health returned %d", in.v.name, int32(in.stack[0]))
	}
	if err != nil {
		var f *failure
		if errors.As(err, &f) && f.reason == "timeout" {
			return err
		}
		return &failure{reason: "health", err: err}
	}
	return nil
}

// runStop runs troupe_stop, when exported, on a normal stop; its errors are
// only worth a log line.
func (in *instance) runStop() {
	if in.closed {
		return
	}
	if _, err := in.call(exportStop); err != nil {
		in.v.env.log.Warn("troupe_stop failed", "err", err)
	}
}

// close releases the instance: its module, its linear memory, its watchdog
// slot, and its share of the version, whose runtime closes with its last
// instance. It is idempotent.
func (in *instance) close() {
	if in.closed {
		return
	}
	in.closed = true
	in.v.rt.watchdog.unregister(in)
	in.stopLoop()
	in.closeTrampoline()
	_ = in.mod.Close(context.Background())
	in.releaseMemory()
	in.stdout.Flush()
	in.stderr.Flush()
	in.v.release()
}

// releaseMemory returns the linear memory to the OS. Only close and a
// failed instantiation call it: with the serve loop ended and the module
// closed or never made, no guest code or host function can touch the
// memory again.
func (in *instance) releaseMemory() {
	if in.linear != nil {
		in.linear.release()
	}
}
