package wasm

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/tetratelabs/wazero/api"
)

const (
	// maxLogBytes bounds one guest log message; the rest is cut off and
	// the record marked truncated.
	maxLogBytes = 8 << 10
	// maxRandomBytes bounds one random call, so a guest cannot make the
	// host fill its whole memory in one call.
	maxRandomBytes = 64 << 10
)

// hostLog is log(level, msg_ptr, msg_len). The component logger carries the
// component attribute and drops records below monitoring.log_level, so a
// disabled level costs no copy.
func hostLog(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	level := slog.Level(api.DecodeI32(stack[0]))
	msg, ok := guestBytes(mem, stack, 1)
	if !ok {
		return env.badArg("message")
	}
	log := env.comp.log
	if log == nil || !log.Enabled(ctx, level) {
		return env.succeed(nil)
	}
	if len(msg) > maxLogBytes {
		log.LogAttrs(ctx, level, string(msg[:maxLogBytes]), slog.Bool("truncated", true))
	} else {
		log.LogAttrs(ctx, level, string(msg))
	}
	return env.succeed(nil)
}

// hostNow is now(): wall-clock time in Unix nanoseconds.
func hostNow(_ context.Context, env *instanceEnv, _ api.Memory, _ []uint64) int64 {
	env.result = env.result[:0]
	return time.Now().UnixNano()
}

// hostRandom is random(ptr, len): it fills the guest's buffer in place from
// the OS CSPRNG and returns len, leaving no result pending.
func hostRandom(_ context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	buf, ok := guestBytes(mem, stack, 0)
	if !ok {
		return env.badArg("buffer")
	}
	if len(buf) > maxRandomBytes {
		return env.tooLarge("random buffer", len(buf), maxRandomBytes)
	}
	_, _ = rand.Read(buf) // never fails since Go 1.24: it crashes the process instead
	env.result = env.result[:0]
	return int64(len(buf))
}

// hostSelf is self(): the result is the component's actor name.
func hostSelf(_ context.Context, env *instanceEnv, _ api.Memory, _ []uint64) int64 {
	return env.succeedString(env.comp.name)
}
