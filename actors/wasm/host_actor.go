package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/internal/topic"
	"github.com/troupehq/troupe/problem"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// callContext bounds a blocking host call by the current message's deadline
// and, when timeout is positive, by timeout from now, whichever is first.
// With neither, the call is unbounded, which only happens outside a message
// (the runtime always sets a deadline around guest calls).
func (e *instanceEnv) callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	var deadline time.Time
	if d := e.deadline.Load(); d > 0 {
		deadline = time.Unix(0, d)
	}
	if timeout > 0 {
		if t := time.Now().Add(timeout); deadline.IsZero() || t.Before(deadline) {
			deadline = t
		}
	}
	if deadline.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline)
}

// actorError maps an actors error to an ABI error code and message.
func (e *instanceEnv) actorError(name string, err error) int64 {
	switch {
	case errors.Is(err, actors.ErrNotFound):
		return e.fail(abi.CodeNotFound, "not_found: no actor named "+name)
	case errors.Is(err, actors.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return e.fail(abi.CodeTimeout, "timeout: "+name+" did not answer before the deadline")
	case errors.Is(err, actors.ErrMailboxFull), errors.Is(err, actors.ErrStopped),
		errors.Is(err, actors.ErrUnavailable), errors.Is(err, actors.ErrNotOwner):
		// Not processed, or not now (NATS down, an entity moving between
		// nodes): the guest may answer 503 and its caller retry.
		return e.fail(abi.CodeUnavailable, "unavailable: "+err.Error())
	}
	return e.fail(abi.CodeFailed, "failed: "+err.Error())
}

// replyError maps an actor's error reply — an answer, where actorError
// maps a request that failed — to an ABI error code. An actor answering a
// 503 or 504 problem says "not now", as ErrUnavailable and ErrTimeout do:
// the showcase's notes actor answers 503 while a note's entity moves
// between nodes or its store elects a leader, and the summarizer, handed
// "failed", answered those moments with a 500 (TestShowcaseCluster).
func (e *instanceEnv) replyError(name string, err error) int64 {
	var pe *problem.Error
	if errors.As(err, &pe) {
		switch pe.Status {
		case http.StatusServiceUnavailable:
			return e.fail(abi.CodeUnavailable, "unavailable: "+name+" answered: "+err.Error())
		case http.StatusGatewayTimeout:
			return e.fail(abi.CodeTimeout, "timeout: "+name+" answered: "+err.Error())
		}
	}
	return e.fail(abi.CodeFailed, "failed: "+err.Error())
}

// readMessage reads the actor name at stack[0..1] and the payload at
// stack[2..3], checks the grant for action ("send" or "request") and the
// payload size, and resolves the name. rc is non-zero when the call is over.
func (e *instanceEnv) readMessage(ctx context.Context, mem api.Memory, stack []uint64, action string) (to actors.Ref, name string, payload []byte, rc int64) {
	name, rc = e.readName(mem, stack, 0, "actor name")
	if rc != 0 {
		return actors.Ref{}, "", nil, rc
	}
	payload, ok := guestBytes(mem, stack, 2)
	if !ok {
		return actors.Ref{}, "", nil, e.badArg("message")
	}
	c := e.comp
	if !c.caps.AllowsActor(action, name) {
		return actors.Ref{}, "", nil, e.deny(ctx, "actor", "actor:"+action+":"+name, name)
	}
	if len(payload) > c.limits.MaxMessageBytes {
		return actors.Ref{}, "", nil, e.tooLarge("message", len(payload), c.limits.MaxMessageBytes)
	}
	to, err := c.sys.Lookup(name)
	if err != nil {
		return actors.Ref{}, "", nil, e.actorError(name, err)
	}
	// The recipient runs on another goroutine, and guest memory changes
	// under it: it gets its own copy.
	return to, name, bytes.Clone(payload), 0
}

// hostSend is send(name_ptr, name_len, msg_ptr, msg_len): it delivers the
// payload as []byte, waiting for mailbox space no longer than the message
// deadline.
func hostSend(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	to, name, payload, rc := env.readMessage(ctx, mem, stack, "send")
	if rc != 0 {
		return rc
	}
	sctx, cancel := env.callContext(ctx, 0)
	defer cancel()
	if err := env.comp.sys.SendContext(sctx, to, payload); err != nil {
		return env.actorError(name, err)
	}
	return env.succeed(nil)
}

// hostRequest is request(name_ptr, name_len, msg_ptr, msg_len, timeout_ms):
// the result is the reply, as is when it is []byte, string or
// json.RawMessage and JSON-encoded otherwise.
func hostRequest(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	to, name, payload, rc := env.readMessage(ctx, mem, stack, "request")
	if rc != 0 {
		return rc
	}
	if to == env.self {
		// The instance is inside its actor's Receive; the request could
		// only time out.
		return env.fail(abi.CodeInvalid, "invalid: an actor cannot request itself")
	}
	timeout := time.Duration(api.DecodeU32(stack[4])) * time.Millisecond
	rctx, cancel := env.callContext(ctx, timeout)
	defer cancel()
	var reply any
	var err error
	if env.actor != nil {
		reply, err = env.actor.Request(rctx, to, payload)
	} else {
		reply, err = env.comp.sys.Request(rctx, to, payload)
	}
	if err != nil {
		return env.actorError(name, err)
	}
	var out []byte
	switch v := reply.(type) {
	case nil:
	case error:
		return env.replyError(name, v)
	case []byte:
		out = v
	case string:
		if len(v) > env.comp.limits.MaxReplyBytes {
			return env.tooLarge("reply", len(v), env.comp.limits.MaxReplyBytes)
		}
		return env.succeedString(v)
	case json.RawMessage:
		out = v
	default:
		if out, err = json.Marshal(v); err != nil {
			return env.fail(abi.CodeFailed, "failed: encoding the reply: "+err.Error())
		}
	}
	if len(out) > env.comp.limits.MaxReplyBytes {
		return env.tooLarge("reply", len(out), env.comp.limits.MaxReplyBytes)
	}
	return env.succeed(out)
}

// hostPublish is publish(subject_ptr, subject_len, msg_ptr, msg_len): it
// publishes a Publication to every subscriber of the subject.
func hostPublish(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	subject, rc := env.readName(mem, stack, 0, "subject")
	if rc != 0 {
		return rc
	}
	payload, ok := guestBytes(mem, stack, 2)
	if !ok {
		return env.badArg("message")
	}
	// Syntax first: a malformed subject is the guest's bug, not an attempt
	// worth an audit record, and no grant could cover it.
	if err := topic.ValidateSubject(subject); err != nil {
		return env.fail(abi.CodeInvalid, "invalid: "+err.Error())
	}
	c := env.comp
	if !c.caps.AllowsTopic("publish", subject) {
		return env.deny(ctx, "topic", "topic:publish:"+subject, subject)
	}
	if len(payload) > c.limits.MaxMessageBytes {
		return env.tooLarge("message", len(payload), c.limits.MaxMessageBytes)
	}
	if _, err := c.sys.Publish(subject, Publication{Subject: subject, Data: bytes.Clone(payload)}); err != nil {
		return env.fail(abi.CodeInvalid, "invalid: "+err.Error())
	}
	return env.succeed(nil)
}

// hostSubscribe is subscribe(pattern_ptr, pattern_len): publications on
// matching subjects reach the component's actor as kind 3 messages until
// it stops or restarts.
func hostSubscribe(ctx context.Context, env *instanceEnv, mem api.Memory, stack []uint64) int64 {
	pattern, rc := env.readName(mem, stack, 0, "pattern")
	if rc != 0 {
		return rc
	}
	if err := topic.ValidatePattern(pattern); err != nil {
		return env.fail(abi.CodeInvalid, "invalid: "+err.Error())
	}
	c := env.comp
	if !c.caps.AllowsTopic("subscribe", pattern) {
		return env.deny(ctx, "topic", "topic:subscribe:"+pattern, pattern)
	}
	if _, err := c.sys.Subscribe(env.self, pattern); err != nil {
		// The actor is stopping (or the instance runs outside one): there is
		// nobody to deliver to.
		return env.fail(abi.CodeUnavailable, "unavailable: "+err.Error())
	}
	return env.succeed(nil)
}
