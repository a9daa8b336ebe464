package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

func TestRemoteRequestSendAndSender(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	n1, n2 := nodes[0], nodes[1]
	if _, err := n2.Spawn("echo", nodeEcho); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "echo")
	if ref.Node() != "n2" || ref.Name() != "echo" {
		t.Fatalf("Lookup from n1 = %s on %q, want echo on n2", ref, ref.Node())
	}
	if again := lookup(t, n1, "echo"); again != ref {
		t.Fatalf("two Lookups gave unequal Refs %s and %s", again, ref)
	}
	// Lookup answers from n1's mirror of the names bucket, kept by a watch.
	eventually(t, "the name in n1's mirror", func() error {
		if _, ok := n1.cluster.Load().names.mirror.Load("echo"); !ok {
			return errors.New("not mirrored")
		}
		return nil
	})
	got, err := ask(t, n1, ref, ping{N: 7, Text: "hi"})
	if err != nil || got != (ping{N: 7, Text: "hi"}) {
		t.Fatalf("Request = %v, %v; want the ping back", got, err)
	}
	if got, err := ask(t, n1, ref, wrapperspb.String("protobuf")); err != nil || !proto.Equal(got.(proto.Message), wrapperspb.String("protobuf")) {
		t.Fatalf("a protobuf message came back as %v, %v", got, err)
	}
	if got, err := ask(t, n1, ref, whoAmI{}); err != nil || got != "n2" {
		t.Fatalf("the echo runs on %v (%v), want n2", got, err)
	}
	// An actor on n1 sends to the remote echo; the echo's Respond goes
	// back to it through its remote Sender.
	replies := make(chan any, 1)
	asker, err := n1.Spawn("", func() Actor {
		return fn(func(c *Context, msg any) {
			switch m := msg.(type) {
			case string:
				if err := c.Send(ref, ping{Text: m}); err != nil {
					t.Error(err)
				}
			case ping:
				if c.Sender() != ref {
					t.Errorf("Sender = %s, want %s", c.Sender(), ref)
				}
				replies <- m
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n1.Send(asker, "round trip"); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, replies, "the reply to a remote Send"); got != (ping{Text: "round trip"}) {
		t.Fatalf("reply = %v", got)
	}
}

// TestRemoteForward: n1 asks a router on n2, which forwards to a worker on
// n3 (the reply goes from n3 straight to n1) or to a worker beside it.
func TestRemoteForward(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	for _, s := range []*System{n2, n3} {
		if _, err := s.Spawn("worker-"+nodeOf(s), nodeEcho); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n2.Spawn("router", func() Actor {
		return fn(func(c *Context, msg any) {
			if p, ok := msg.(ping); ok {
				to, err := c.System().Lookup(p.Text)
				if err == nil {
					err = c.Forward(to)
				}
				if err != nil {
					t.Errorf("forwarding to %s: %v", p.Text, err)
				}
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	router := lookup(t, n1, "router")
	lookup(t, n2, "worker-n3")
	for _, worker := range []string{"worker-n3", "worker-n2"} {
		got, err := ask(t, n1, router, ping{Text: worker})
		if err != nil || got != (ping{Text: worker}) {
			t.Fatalf("forwarded to %s: %v, %v", worker, got, err)
		}
	}
}

func nodeOf(s *System) string { return s.cluster.Load().node }

func TestRemoteStopPoisonDone(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	n1, n2 := nodes[0], nodes[1]
	got := make(chan int, 10)
	if _, err := n2.Spawn("victim", func() Actor {
		return fn(func(c *Context, msg any) {
			if p, ok := msg.(ping); ok {
				got <- p.N
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "victim")
	done := n1.Done(ref)
	for i := range 3 {
		if err := n1.Send(ref, ping{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.Poison(ref); err != nil {
		t.Fatalf("remote Poison: %v", err)
	}
	wait(t, done, "Done of a poisoned remote actor")
	for i := range 3 {
		if n := wait(t, got, "a message queued before the poison"); n != i {
			t.Fatalf("message %d arrived as %d", i, n)
		}
	}
	if err := n1.Poison(ref); !errors.Is(err, ErrStopped) {
		t.Fatalf("Poison of a stopped remote actor = %v, want ErrStopped", err)
	}
	if _, err := ask(t, n1, ref, ping{}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Request to a stopped remote actor = %v, want ErrStopped", err)
	}
	// A Send cannot know: it is a dead letter on the owner's node.
	before := n2.Stats().DeadLetters[ReasonStopped]
	if err := n1.Send(ref, ping{}); err != nil {
		t.Fatal(err)
	}
	waitDeadLetters(t, n2, ReasonStopped, before+1)

	if _, err := n2.Spawn("stoppable", nodeEcho); err != nil {
		t.Fatal(err)
	}
	ref = lookup(t, n1, "stoppable")
	if err := n1.Stop(ref); err != nil {
		t.Fatalf("remote Stop: %v", err)
	}
	wait(t, n1.Done(ref), "Done of a stopped remote actor")
	if err := n1.Stop(ref); !errors.Is(err, ErrStopped) {
		t.Fatalf("second remote Stop = %v, want ErrStopped", err)
	}
	// Its name is free once Done fires: another node takes it at once.
	if _, err := n1.Spawn("stoppable", nodeEcho); err != nil {
		t.Fatalf("Spawn of a name released by a stopped remote actor: %v", err)
	}
}

// TestRemoteErrorsCrossTheWire: the typed errors a caller gets locally, it
// gets from another node too.
func TestRemoteErrorsCrossTheWire(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	n1, n2 := nodes[0], nodes[1]
	type unregistered struct{ X int }
	if _, err := n2.Spawn("errs", func() Actor {
		return fn(func(c *Context, msg any) {
			p, ok := msg.(ping)
			if !ok {
				return
			}
			switch p.Text {
			case "problem":
				c.Respond(problem.NewError(409, "already there"))
			case "panic-problem":
				panic(problem.NewError(422, "bad shape"))
			case "panic":
				panic("boom")
			case "unregistered":
				c.Respond(unregistered{1})
			case "silent":
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "errs")
	got, err := ask(t, n1, ref, ping{Text: "problem"})
	if pe, ok := got.(*problem.Error); err != nil || !ok || pe.Status != 409 || pe.Detail != "already there" {
		t.Fatalf("a problem reply = %#v, %v; want *problem.Error 409", got, err)
	}
	_, err = ask(t, n1, ref, ping{Text: "panic-problem"})
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Status != 422 {
		t.Fatalf("a problem failure = %v, want a *problem.Error 422", err)
	}
	_, err = ask(t, n1, ref, ping{Text: "panic"})
	var re *RemoteError
	if !errors.As(err, &re) || re.Node != "n2" || !strings.Contains(re.Message, "boom") {
		t.Fatalf("a panic = %v, want a *RemoteError from n2 naming the panic", err)
	}
	if _, err = ask(t, n1, ref, ping{Text: "silent"}); !errors.Is(err, ErrNoReply) {
		t.Fatalf("no Respond = %v, want ErrNoReply", err)
	}
	before := n2.Stats().DeadLetters[ReasonUnknownType]
	if _, err = ask(t, n1, ref, ping{Text: "unregistered"}); !errors.Is(err, ErrUnregisteredType) {
		t.Fatalf("an unregistered reply = %v, want ErrUnregisteredType", err)
	}
	if n2.Stats().DeadLetters[ReasonUnknownType] != before+1 {
		t.Error("the unsendable reply is not a dead letter on the replier's node")
	}
	before = n1.Stats().DeadLetters[ReasonUnknownType]
	err = n1.Send(ref, unregistered{2})
	var ut *UnregisteredTypeError
	if !errors.As(err, &ut) || !strings.Contains(ut.Type, "unregistered") {
		t.Fatalf("Send of an unregistered type = %v, want *UnregisteredTypeError at the call", err)
	}
	if n1.Stats().DeadLetters[ReasonUnknownType] != before+1 {
		t.Error("the unsendable message is not a dead letter")
	}
	if _, err := n1.Lookup("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup of an unknown name = %v, want ErrNotFound", err)
	}
}

// TestRemoteMailboxFull: a full mailbox refuses a remote message at once,
// whatever its policy (waiting would stall the node's subscription).
func TestRemoteMailboxFull(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	n1, n2 := nodes[0], nodes[1]
	for _, policy := range []OverflowPolicy{Reject, Block} {
		inside, release := make(chan struct{}), make(chan struct{})
		name := "full-" + policy.String()
		local, err := n2.Spawn(name, func() Actor {
			return fn(func(c *Context, msg any) {
				if _, ok := msg.(ping); ok {
					inside <- struct{}{}
					<-release
				}
			})
		}, WithMailboxSize(1), WithOverflow(policy))
		if err != nil {
			t.Fatal(err)
		}
		ref := lookup(t, n1, name)
		if err := n1.Send(ref, ping{N: 1}); err != nil {
			t.Fatal(err)
		}
		wait(t, inside, "the first message in Receive")
		if err := n1.Send(ref, ping{N: 2}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the second message queued", func() error {
			if queued(local) != 1 {
				return errors.New("not queued yet")
			}
			return nil
		})
		if _, err := ask(t, n1, ref, ping{N: 3}); !errors.Is(err, ErrMailboxFull) {
			t.Fatalf("%s: Request to a full remote mailbox = %v, want ErrMailboxFull", policy, err)
		}
		close(release)
		wait(t, inside, "the queued message")
	}
}

// TestRemoteDeadline: the caller's deadline travels with the request and
// is enforced where it is handled: a message still queued when it passes
// never reaches Receive, and a reply after it is a dead letter there.
func TestRemoteDeadline(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	n1, n2 := nodes[0], nodes[1]
	inside, release := make(chan int, 4), make(chan struct{})
	deadlines := make(chan bool, 4)
	if _, err := n2.Spawn("slow", func() Actor {
		return fn(func(c *Context, msg any) {
			if p, ok := msg.(ping); ok {
				_, has := c.Context().Deadline()
				deadlines <- has
				inside <- p.N
				<-release
				c.Respond(p)
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "slow")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	go func() { _, err := n1.Request(ctx, ref, ping{N: 1}); errs <- err }()
	if n := wait(t, inside, "the first request in Receive"); n != 1 {
		t.Fatalf("got %d", n)
	}
	if !wait(t, deadlines, "the deadline seen by Receive") {
		t.Fatal("the remote actor's Context has no deadline")
	}
	go func() { _, err := n1.Request(ctx, ref, ping{N: 2}); errs <- err }()
	for range 2 {
		if err := wait(t, errs, "the callers' timeouts"); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a request past its deadline = %v, want *TimeoutError", err)
		}
	}
	late, expired := n2.Stats().DeadLetters[ReasonLateReply], n2.Stats().DeadLetters[ReasonExpired]
	close(release)
	waitDeadLetters(t, n2, ReasonLateReply, late+1)
	waitDeadLetters(t, n2, ReasonExpired, expired+1)
	select {
	case n := <-inside:
		t.Fatalf("message %d reached Receive after its deadline", n)
	default:
	}
}

// TestRemoteTraceContext: a span started by a remote actor joins the
// caller's trace.
func TestRemoteTraceContext(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	n1, n2 := nodes[0], nodes[1]
	if _, err := n2.Spawn("traced", func() Actor {
		return fn(func(c *Context, msg any) {
			if _, ok := msg.(ping); ok {
				c.Respond(trace.SpanContextFromContext(c.Context()).TraceID().String())
			}
		})
	}); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "traced")
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "caller")
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := n1.Request(ctx, ref, ping{})
	if err != nil || got != span.SpanContext().TraceID().String() {
		t.Fatalf("the remote handler's trace = %v (%v), want the caller's %s", got, err, span.SpanContext().TraceID())
	}
}

func TestRemoteMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	nodes := startCluster(t, 2, nil)
	n1 := startNode(t, testClusterConfig(nodes[0].cluster.Load().nc, "metered"),
		WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if _, err := nodes[1].Spawn("echo", nodeEcho); err != nil {
		t.Fatal(err)
	}
	ref := lookup(t, n1, "echo")
	if _, err := ask(t, n1, ref, ping{}); err != nil {
		t.Fatal(err)
	}
	if err := n1.Send(ref, ping{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		telemetry.MetricActorRemoteSent:            "troupe.remote.operation=send",
		telemetry.MetricActorRemoteReceived:        "troupe.remote.operation=reply",
		telemetry.MetricActorRemoteRequestDuration: "troupe.remote.operation=request,troupe.remote.outcome=ok",
	}
	// A send is counted when its outbox publishes it, just after Send.
	eventually(t, "remote metrics", func() error {
		got := metrictest.Collect(t, reader)
		for name, attrs := range want {
			found := false
			for _, p := range got[name] {
				found = found || p.Attrs == attrs && p.Value >= 1
			}
			if !found {
				return fmt.Errorf("%s{%s} not recorded; got %v", name, attrs, got[name])
			}
		}
		return nil
	})
}
