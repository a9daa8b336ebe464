package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/ratelog"
	"github.com/troupehq/troupe/problem"

	"github.com/troupehq/troupe/actors/internal/abi"
)

func TestHostSend(t *testing.T) {
	f := hostNewEnv(t, nil, "actor:send:sink", "actor:send:ghost")
	got := make(chan any, 1)
	if _, err := f.sys.SpawnActor("sink", &hostActor{got: got}); err != nil {
		t.Fatal(err)
	}
	g := hostInstantiate(t, "host_calls.wat", f.env)

	name := g.str("sink")
	ptr, n := g.put([]byte("hello"))
	g.wantCode("send", g.call("send", args(name, []uint64{ptr, n})...), 0, f.env, "")
	var msg any
	select {
	case msg = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("sink received nothing")
	}
	b, ok := msg.([]byte)
	if !ok || string(b) != "hello" {
		t.Fatalf("sink received %#v, want []byte(\"hello\")", msg)
	}
	g.mod.Memory().Write(uint32(ptr), []byte("XXXXX"))
	if string(b) != "hello" {
		t.Error("the sent payload aliases guest memory")
	}

	g.wantCode("send to a missing actor", g.call("send", args(g.str("ghost"), g.str("x"))...),
		-abi.CodeNotFound, f.env, "ghost")
	g.wantCode("send oversize", g.call("send", args(name, g.str(strings.Repeat("x", hostLimits.MaxMessageBytes+1)))...),
		-abi.CodeTooLarge, f.env, "over the limit of 1024")
	g.wantCode("send with an empty name", g.call("send", args([]uint64{0, 0}, g.str("x"))...),
		-abi.CodeInvalid, f.env, "empty actor name")

	f.wantDenied(t, g.call("send", args(g.str("billing"), g.str("x"))...), "actor", "actor:send:billing", "billing")
}

// TestHostSendRequestGrantsAreSeparate checks that a send grant does not
// allow request, and the reverse.
func TestHostSendRequestGrantsAreSeparate(t *testing.T) {
	f := hostNewEnv(t, nil, "actor:send:sink")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	f.wantDenied(t, g.call("request", args(g.str("sink"), g.str("x"), []uint64{0})...),
		"actor", "actor:request:sink", "sink")
}

// hostReply is a value a native actor answers with, JSON-encoded for a
// guest.
type hostReply struct {
	Total int `json:"total"`
}

func TestHostRequest(t *testing.T) {
	f := hostNewEnv(t, nil, "actor:request:*")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	spawn := func(name string, reply func(any) any) {
		t.Helper()
		if _, err := f.sys.SpawnActor(name, &hostActor{reply: reply}); err != nil {
			t.Fatal(err)
		}
	}
	spawn("bytes", func(m any) any { return append([]byte("re:"), m.([]byte)...) })
	spawn("string", func(any) any { return "a string" })
	spawn("raw", func(any) any { return json.RawMessage(`{"raw":true}`) })
	spawn("struct", func(any) any { return hostReply{Total: 3} })
	spawn("nil", func(any) any { return nil })
	spawn("error", func(any) any { return errors.New("out of stock") })
	spawn("big", func(any) any { return make([]byte, hostLimits.MaxReplyBytes+1) })
	spawn("bigstring", func(any) any { return strings.Repeat("x", hostLimits.MaxReplyBytes+1) })
	spawn("unencodable", func(any) any { return func() {} })
	spawn("slow", func(any) any { <-release; return nil })
	g := hostInstantiate(t, "host_calls.wat", f.env)

	for _, tc := range []struct {
		to      string
		want    int64
		payload string // pending result on success, part of the message on error
	}{
		{"bytes", 0, "re:ping"},
		{"string", 0, "a string"},
		{"raw", 0, `{"raw":true}`},
		{"struct", 0, `{"total":3}`},
		{"nil", 0, ""},
		{"error", -abi.CodeFailed, "out of stock"},
		{"big", -abi.CodeTooLarge, "reply of 1025 bytes"},
		{"bigstring", -abi.CodeTooLarge, "reply of 1025 bytes"},
		{"unencodable", -abi.CodeFailed, "encoding the reply"},
		{"ghost", -abi.CodeNotFound, "ghost"},
		{f.env.comp.name, -abi.CodeInvalid, "cannot request itself"},
	} {
		t.Run(tc.to, func(t *testing.T) {
			r := g.call("request", args(g.str(tc.to), g.str("ping"), []uint64{5000})...)
			if tc.want < 0 {
				g.wantCode("request", r, tc.want, f.env, tc.payload)
				return
			}
			if r != int64(len(tc.payload)) || string(f.env.result) != tc.payload {
				t.Errorf("request = %d, %q; want %q", r, f.env.result, tc.payload)
			}
		})
	}

	t.Run("timeout_ms", func(t *testing.T) {
		r := g.call("request", args(g.str("slow"), g.str("ping"), []uint64{20})...)
		g.wantCode("request", r, -abi.CodeTimeout, f.env, "slow")
	})
	t.Run("message deadline", func(t *testing.T) {
		f.env.deadline.Store(time.Now().Add(20 * time.Millisecond).UnixNano())
		defer f.env.deadline.Store(0)
		r := g.call("request", args(g.str("slow"), g.str("ping"), []uint64{0})...)
		g.wantCode("request", r, -abi.CodeTimeout, f.env, "slow")
	})
}

// TestHostActorErrorCodes pins the mapping of actors errors to ABI codes,
// including those hard to provoke through a live System.
func TestHostActorErrorCodes(t *testing.T) {
	env := &instanceEnv{}
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{&actors.NotFoundError{Name: "x"}, -abi.CodeNotFound},
		{&actors.TimeoutError{}, -abi.CodeTimeout},
		{context.DeadlineExceeded, -abi.CodeTimeout},
		{actors.ErrMailboxFull, -abi.CodeUnavailable},
		{fmt.Errorf("wrapped: %w", actors.ErrStopped), -abi.CodeUnavailable},
		{fmt.Errorf("%w: moving", actors.ErrNotOwner), -abi.CodeUnavailable},
		{actors.ErrUnavailable, -abi.CodeUnavailable},
		{actors.ErrNoReply, -abi.CodeFailed},
		{&actors.PanicError{Value: "boom"}, -abi.CodeFailed},
	} {
		if got := env.actorError("x", tc.err); got != tc.want {
			t.Errorf("actorError(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestHostReplyErrorCodes: an actor's error reply reaches the guest as
// unavailable or timeout when it is a 503 or 504 problem, else failed.
func TestHostReplyErrorCodes(t *testing.T) {
	env := &instanceEnv{}
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{problem.NewError(http.StatusServiceUnavailable, "moving"), -abi.CodeUnavailable},
		{fmt.Errorf("wrapped: %w", problem.NewError(http.StatusGatewayTimeout, "slow")), -abi.CodeTimeout},
		{problem.NewError(http.StatusBadRequest, "bad"), -abi.CodeFailed},
		{errors.New("boom"), -abi.CodeFailed},
	} {
		if got := env.replyError("x", tc.err); got != tc.want {
			t.Errorf("replyError(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestHostPublishSubscribe(t *testing.T) {
	f := hostNewEnv(t, nil, "topic:publish:orders.*", "topic:subscribe:orders.*")
	g := hostInstantiate(t, "host_calls.wat", f.env)

	g.wantCode("subscribe", g.call("subscribe", g.str("orders.*")...), 0, f.env, "")
	ptr, n := g.put([]byte(`{"id":1}`))
	g.wantCode("publish", g.call("publish", args(g.str("orders.eu"), []uint64{ptr, n})...), 0, f.env, "")
	select {
	case msg := <-f.inbox:
		p, ok := msg.(Publication)
		if !ok || p.Subject != "orders.eu" || string(p.Data) != `{"id":1}` {
			t.Fatalf("subscriber received %#v", msg)
		}
		g.mod.Memory().Write(uint32(ptr), []byte("XXXXXXXX"))
		if string(p.Data) != `{"id":1}` {
			t.Error("the published payload aliases guest memory")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the component's actor received no publication")
	}

	g.wantCode("publish to a bad subject", g.call("publish", args(g.str("orders..eu"), g.str("x"))...),
		-abi.CodeInvalid, f.env, "invalid")
	g.wantCode("publish with a wildcard", g.call("publish", args(g.str("orders.*"), g.str("x"))...),
		-abi.CodeInvalid, f.env, "invalid")
	g.wantCode("subscribe to a bad pattern", g.call("subscribe", g.str("orders.>.x")...),
		-abi.CodeInvalid, f.env, "invalid")
	g.wantCode("publish oversize", g.call("publish", args(g.str("orders.eu"), g.str(strings.Repeat("x", 1025)))...),
		-abi.CodeTooLarge, f.env, "message of 1025 bytes")
	if n := f.denials(t, "topic"); n != 0 {
		t.Fatalf("malformed subjects counted %d denials", n)
	}

	f.wantDenied(t, g.call("publish", args(g.str("billing.eu"), g.str("x"))...),
		"topic", "topic:publish:billing.eu", "billing.eu")
}

// TestHostSubscribeMustBeSubsetOfGrant checks that "orders.>" is refused
// under an "orders.*" grant: it would also match deeper subjects.
func TestHostSubscribeMustBeSubsetOfGrant(t *testing.T) {
	f := hostNewEnv(t, nil, "topic:subscribe:orders.*")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	f.wantDenied(t, g.call("subscribe", g.str("orders.>")...), "topic", "topic:subscribe:orders.>", "orders.>")
}

func TestHostSubscribeStoppedActorIsUnavailable(t *testing.T) {
	f := hostNewEnv(t, nil, "topic:subscribe:orders.*")
	g := hostInstantiate(t, "host_calls.wat", f.env)
	if err := f.sys.Stop(f.env.self); err != nil {
		t.Fatal(err)
	}
	<-f.sys.Done(f.env.self)
	g.wantCode("subscribe", g.call("subscribe", g.str("orders.*")...), -abi.CodeUnavailable, f.env, "unavailable")
}

// TestHostAuditIsRateLimited floods denials: every one is counted, but the
// audit log gets one record per interval.
func TestHostAuditIsRateLimited(t *testing.T) {
	f := hostNewEnv(t, nil)
	// An hour-long interval makes the count exact however slow the machine.
	auditLimiters.Store(f.env.comp.name, ratelog.New(time.Hour))
	g := hostInstantiate(t, "host_calls.wat", f.env)
	name, msg := g.str("billing"), g.str("x")
	for range 100 {
		if got := g.call("send", args(name, msg)...); got != -abi.CodeDenied {
			t.Fatalf("send = %d, want -1", got)
		}
	}
	if n := f.denials(t, "actor"); n != 100 {
		t.Errorf("denials = %d, want 100", n)
	}
	if recs := f.auditRecords(t); len(recs) != 1 {
		t.Errorf("audit records = %d, want 1 (rate limited)", len(recs))
	}
}
