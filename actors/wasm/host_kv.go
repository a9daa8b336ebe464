package wasm

import (
	"context"
	"errors"

	"github.com/tetratelabs/wazero/api"
	"github.com/troupehq/troupe/actors/state"

	"github.com/troupehq/troupe/actors/internal/abi"
)

const (
	maxNamespaceBytes = 128
	maxKeyBytes       = 1024
)

// validNamespace reports whether ns is a namespace a kv grant can name:
// the grammar's kvRE, a lower-case letter then up to 127 bytes of
// [a-z0-9_.-], checked without a regexp on the hot path. A namespace never
// contains '/', so "<component>/<ns>/<key>" cannot collide across
// namespaces or components.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > maxNamespaceBytes || ns[0] < 'a' || ns[0] > 'z' {
		return false
	}
	for i := range len(ns) {
		c := ns[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// kvKey reads the namespace at stack[0..1] and the key at stack[2..3],
// checks the kv grant (write or read) and the key's size, and returns the
// store key "<component>/<ns>/<key>". rc is non-zero when the call is over.
func (e *instanceEnv) kvKey(ctx context.Context, mem api.Memory, stack []uint64, write bool) (key string, rc int64) {
	ns, rc := e.readName(mem, stack, 0, "namespace")
	if rc != 0 {
		return "", rc
	}
	k, ok := guestBytes(mem, stack, 2)
	if !ok {
		return "", e.badArg("key")
	}
	if !validNamespace(ns) {
		return "", e.fail(abi.CodeInvalid, "invalid: namespace must be a lower-case letter then up to 127 bytes of [a-z0-9_.-]")
	}
	c := e.comp
	if !c.caps.AllowsKV(write, ns) {
		action := "read"
		if write {
			action = "write"
		}
		return "", e.deny(ctx, "kv", "kv:"+action+":"+ns, ns)
	}
	switch {
	case len(k) == 0:
		return "", e.fail(abi.CodeInvalid, "invalid: empty key")
	case len(k) > maxKeyBytes:
		return "", e.tooLarge("key", len(k), maxKeyBytes)
	case c.store == nil:
		return "", e.fail(abi.CodeUnavailable, "unavailable: no state store is configured")
	}
	return c.name + "/" + ns + "/" + string(k), 0
}

// storeError maps a state.Store error to an ABI error code.
func (e *instanceEnv) storeError(err error) int64 {
	switch {
	case errors.Is(err, state.ErrNotFound):
		return e.fail(abi.CodeNotFound, "not_found: no such key")
	case errors.Is(err, state.ErrInvalidKey):
		// The JetStream store refuses a key too long once escaped.
		return e.fail(abi.CodeInvalid, "invalid: the state store cannot hold this key")
	case errors.Is(err, context.DeadlineExceeded):
		return e.fail(abi.CodeTimeout, "timeout: the state store did not answer before the deadline")
	}
	return e.fail(abi.CodeUnavailable, "unavailable: state store: "+err.Error())
}

// hostKVGet is kv_get(ns_ptr, ns_len, key_ptr, key_len): the result is the
// value.
func hostKVGet(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	key, rc := env.kvKey(ctx, mem, stack, false)
	if rc != 0 {
		return rc
	}
	sctx, cancel := env.callContext(ctx, 0)
	defer cancel()
	v, err := env.comp.store.Get(sctx, key)
	if err != nil {
		return env.storeError(err)
	}
	if limit := env.comp.limits.MaxReplyBytes; len(v) > limit {
		return env.tooLarge("value", len(v), limit)
	}
	return env.succeed(v)
}

// hostKVPut is kv_put(ns_ptr, ns_len, key_ptr, key_len, val_ptr, val_len).
func hostKVPut(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	val, ok := guestBytes(mem, stack, 4)
	if !ok {
		return env.badArg("value")
	}
	key, rc := env.kvKey(ctx, mem, stack, true)
	if rc != 0 {
		return rc
	}
	if limit := env.comp.limits.MaxMessageBytes; len(val) > limit {
		return env.tooLarge("value", len(val), limit)
	}
	sctx, cancel := env.callContext(ctx, 0)
	defer cancel()
	// Store.Put keeps its own copy, so guest memory is not retained.
	if err := env.comp.store.Put(sctx, key, val); err != nil {
		return env.storeError(err)
	}
	return env.succeed(nil)
}

// hostKVDelete is kv_delete(ns_ptr, ns_len, key_ptr, key_len); deleting a
// missing key succeeds.
func hostKVDelete(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	key, rc := env.kvKey(ctx, mem, stack, true)
	if rc != 0 {
		return rc
	}
	sctx, cancel := env.callContext(ctx, 0)
	defer cancel()
	if err := env.comp.store.Delete(sctx, key); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return env.succeed(nil)
		}
		return env.storeError(err)
	}
	return env.succeed(nil)
}
