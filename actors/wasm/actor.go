package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// Spawn starts c's actor, named c.Name(), with a mailbox of
// runtime.message_queue_size. With runtime.max_cpu_cores > 1 the actor is
// a stateless pool: a router of that name in front of as many workers,
// each with its own instance (see poolRouter). opts come after the
// defaults, so they can override them.
func (r *Runtime) Spawn(ctx context.Context, c *Component, opts ...actors.SpawnOption) (actors.Ref, error) {
	if err := ctx.Err(); err != nil {
		return actors.Ref{}, err
	}
	m := c.Manifest()
	all := append(metricsOptions(m, actors.WithMailboxSize(m.Runtime.MessageQueueSize), actors.WithKind("wasm:"+c.name)), opts...)
	c.spawned.Store(true)
	if n := m.Runtime.MaxCPUCores; n > 1 {
		return r.opts.System.SpawnActor(c.name, &poolRouter{c: c, loads: make([]atomic.Int64, n)}, all...)
	}
	// A call into wazero needs tens of KiB of Go stack: a drain goroutine
	// that lives as long as the actor grows it once, not per burst.
	all = append([]actors.SpawnOption{actors.WithDedicatedGoroutine()}, all...)
	return r.opts.System.SpawnActor(c.name, &componentActor{c: c}, all...)
}

// metricsOptions adds WithoutProcessingMetrics to opts unless the manifest
// asks for monitoring.enable_metrics.
func metricsOptions(m *Manifest, opts ...actors.SpawnOption) []actors.SpawnOption {
	if !m.Monitoring.EnableMetrics {
		opts = append(opts, actors.WithoutProcessingMetrics())
	}
	return opts
}

// healthTick is the timer message that polls troupe_health.
type healthTick struct{}

// componentActor runs one instance of a component at a time. It is spawned
// by value, so a restart delivers Restarting, where it drops whatever
// instance a failure left, and Started, where it takes a fresh one.
type componentActor struct {
	c      *Component
	self   actors.Ref    // set for pool workers: the router; else Self at start
	load   *atomic.Int64 // pool workers: messages forwarded and not yet done
	inst   *instance
	health *actors.Timer
}

// Receive implements actors.Actor.
func (a *componentActor) Receive(ctx *actors.Context, msg any) {
	switch m := msg.(type) {
	case actors.Started:
		a.start(ctx)
	case actors.Restarting:
		a.drop()
	case actors.Stopping:
		if a.inst != nil {
			a.inst.runStop()
		}
		a.drop()
	case actors.Stopped:
		a.drop()
	case healthTick:
		if a.inst != nil {
			a.check(a.inst.checkHealth())
		}
	default:
		if a.load != nil {
			defer a.load.Add(-1)
		}
		if t := a.c.cur.Load().env.tracer; t != nil {
			defer a.traced(ctx, t, m)()
		}
		a.handle(ctx, m)
	}
}

// traced starts the span of one message, a child of the sender's context
// (for an HTTP request, the server span), and returns what ends it: an
// instance failure, which unwinds as a panic, marks it as an error.
func (a *componentActor) traced(ctx *actors.Context, t trace.Tracer, msg any) func() {
	kind := "message"
	switch msg.(type) {
	case *actors.HTTPRequest, actors.HTTPRequest:
		kind = "http"
	case Publication, *Publication:
		kind = "publication"
	}
	_, span := t.Start(ctx.Context(), "wasm "+a.c.name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("troupe.component", a.c.name), attribute.String("troupe.message.kind", kind)))
	return func() {
		if r := recover(); r != nil {
			span.SetStatus(codes.Error, fmt.Sprint(r))
			span.End()
			panic(r)
		}
		span.End()
	}
}

// start takes an instance, runs troupe_init and arms the health poll. Any
// failure fails the actor: its supervisor retries with backoff.
func (a *componentActor) start(ctx *actors.Context) {
	self := a.self
	if self == (actors.Ref{}) {
		self = ctx.Self()
	}
	in, err := a.c.take(context.Background(), self)
	if err != nil {
		panic(err)
	}
	a.inst = in
	a.check(in.runInit())
	a.armHealth(ctx)
}

// armHealth (re)starts the health poll for the current instance's version.
func (a *componentActor) armHealth(ctx *actors.Context) {
	if a.health != nil {
		a.health.Stop()
		a.health = nil
	}
	ms := a.inst.v.m.Runtime.HealthCheckIntervalMS
	if a.inst.v.exports[exportHealth] && ms > 0 {
		a.health = ctx.Every(time.Duration(ms)*time.Millisecond, healthTick{})
	}
}

// drop closes the instance, if any, without calling into it.
func (a *componentActor) drop() {
	if a.inst != nil {
		a.inst.close()
		a.inst = nil
	}
}

// check fails the actor on an instance failure: the instance is discarded,
// the failure counted and logged, and the panic makes the supervisor
// restart the actor. The panic also settles a pending Request with the
// failure as its error (through *actors.PanicError, which unwraps to it),
// before the restart begins.
func (a *componentActor) check(err error) {
	if err == nil {
		return
	}
	in := a.inst
	a.inst = nil
	panic(in.discard(err))
}

// current moves the actor to the current version after a hot reload,
// between messages: the old instance is stopped normally, the new one
// initialised.
func (a *componentActor) current(ctx *actors.Context) {
	if a.inst != nil && a.inst.v == a.c.cur.Load() {
		return
	}
	if a.inst != nil {
		a.inst.runStop()
		a.drop()
	}
	a.start(ctx)
}

// handle delivers one user message and answers it.
func (a *componentActor) handle(ctx *actors.Context, msg any) {
	a.current(ctx)
	env := &a.inst.env
	env.actor = ctx
	defer func() { env.actor = nil }()
	var view []byte
	var err error
	switch m := msg.(type) {
	case []byte:
		view, err = a.inst.send(abi.KindMessage, m)
	case json.RawMessage:
		view, err = a.inst.send(abi.KindMessage, m)
	case string:
		view, err = a.deliverString(m)
	case *actors.HTTPRequest:
		a.answerHTTP(ctx, m)
		return
	case actors.HTTPRequest:
		a.answerHTTP(ctx, &m)
		return
	case Publication:
		a.published(a.deliverPublication(&m))
		return
	case *Publication:
		a.published(a.deliverPublication(m))
		return
	default:
		b, merr := json.Marshal(m)
		if merr != nil {
			ctx.Respond(fmt.Errorf("wasm: component %q: cannot encode a %T message as JSON: %w", a.c.name, m, merr))
			return
		}
		view, err = a.inst.send(abi.KindMessage, b)
	}
	a.answer(ctx, view, err)
}

func (a *componentActor) deliverString(s string) ([]byte, error) {
	ptr, err := a.inst.allocate(len(s))
	if err != nil {
		return nil, err
	}
	a.inst.mem.WriteString(ptr, s)
	return a.inst.deliver(abi.KindMessage, ptr, len(s))
}

// deliverPublication frames p in place in guest memory: no host copy.
func (a *componentActor) deliverPublication(p *Publication) ([]byte, error) {
	n := publicationLen(p)
	ptr, err := a.inst.allocate(n)
	if err != nil {
		return nil, err
	}
	mem := a.inst.mem
	mem.WriteUint32Le(ptr, uint32(len(p.Subject)))
	mem.WriteString(ptr+abi.PublicationHeaderLen, p.Subject)
	mem.Write(ptr+abi.PublicationHeaderLen+uint32(len(p.Subject)), p.Data)
	return a.inst.deliver(abi.KindPublication, ptr, n)
}

// answer replies to a kind 1 message: the payload as []byte (nil when
// empty), a *GuestError, or the error that kept the message from the
// guest. An instance failure fails the actor instead.
func (a *componentActor) answer(ctx *actors.Context, view []byte, err error) {
	if err != nil {
		a.refused(ctx, err)
		return
	}
	reply, guestErr := decodeReply(a.c.name, view)
	switch {
	case !ctx.CanRespond():
		// A Send: nobody to answer. Only an error is worth keeping.
		if guestErr != nil {
			a.inst.v.env.log.Warn("component failed a message sent without a reply", "err", guestErr.Message)
		}
	case guestErr != nil:
		ctx.Respond(guestErr)
	case reply == nil:
		ctx.Respond(nil) // untyped: an empty reply is no reply
	default:
		ctx.Respond(reply)
	}
}

// refused answers a message the guest could not take (too large, out of
// memory) with the error, or fails the actor on an instance failure.
func (a *componentActor) refused(ctx *actors.Context, err error) {
	var f *failure
	if errors.As(err, &f) {
		a.check(err)
	}
	if !ctx.CanRespond() {
		a.c.cur.Load().env.log.Warn("component could not take a message sent without a reply", "err", err)
		return
	}
	ctx.Respond(err)
}

// answerHTTP delivers a kind 2 message and replies with an
// *actors.HTTPResponse, nil (204) for an empty reply, or a *GuestError,
// which actors.Route answers with a generic 500. A reply that is not a
// valid HTTP response is an ABI violation.
func (a *componentActor) answerHTTP(ctx *actors.Context, req *actors.HTTPRequest) {
	in := a.inst
	b, err := encodeHTTPRequest(req, in.v.binaryHTTP, in.scratch[:0])
	if err != nil {
		ctx.Respond(fmt.Errorf("wasm: component %q: encoding the HTTP request: %w", a.c.name, err))
		return
	}
	kind := uint32(abi.KindHTTP)
	if in.v.binaryHTTP {
		kind, in.scratch = abi.KindHTTPBinary, b
		if cap(b) > maxRetainedResult {
			in.scratch = nil // one large request does not pin its memory
		}
	}
	view, err := in.send(kind, b)
	if err != nil {
		a.refused(ctx, err)
		return
	}
	switch {
	case len(view) == 0:
		ctx.Respond(nil)
	case view[0] == abi.StatusError:
		ge := &GuestError{Component: a.c.name, Message: string(view[1:])}
		a.inst.v.env.log.Warn("component answered an HTTP request with an error", "route", req.Route, "err", ge.Message)
		ctx.Respond(ge)
	default:
		resp, err := decodeHTTPResponse(view[1:], in.v.binaryHTTP)
		if err != nil {
			a.check(a.inst.abi("%v", err))
		}
		ctx.Respond(asProblem(resp))
	}
}

// published handles the outcome of a publication, which nobody awaits:
// failures fail the actor, the rest is logged.
func (a *componentActor) published(view []byte, err error) {
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			a.check(err)
		}
		a.inst.v.env.log.Warn("publication not delivered", "err", err)
		return
	}
	if len(view) > 0 && view[0] == abi.StatusError {
		a.inst.v.env.log.Warn("component failed to handle a publication", "err", string(view[1:]))
	}
}
