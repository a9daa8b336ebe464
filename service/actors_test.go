package service

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/versioning"
)

// actorFunc adapts a function to actors.Actor.
type actorFunc func(c *actors.Context, msg any)

func (f actorFunc) Receive(c *actors.Context, msg any) { f(c, msg) }

// gate is an actor that blocks in Receive on "hold" until released, so a
// test can fill its mailbox deterministically.
type gate struct {
	entered chan struct{}
	release chan struct{}
	seen    atomic.Int64
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) producer() actors.Producer {
	return func() actors.Actor {
		return actorFunc(func(c *actors.Context, msg any) {
			switch msg {
			case "hold":
				g.entered <- struct{}{}
				<-g.release
			case "count":
				g.seen.Add(1)
			}
		})
	}
}

// startActors runs the service with the named actors and an API routing
// /api/v1/echo/:word to the "echo" actor when it is registered.
func startActors(t *testing.T, env map[string]string, opts ...Option) *running {
	t.Helper()
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.POST("/echo/:word", actors.Route("echo"))
		g.GET("/missing", actors.Route("nobody"))
	})
	return start(t, env, append([]Option{WithAPI(api)}, opts...)...)
}

// echoActor answers a routed request with its word and body.
func echoActor() actors.Actor {
	return actorFunc(func(c *actors.Context, msg any) {
		if req, ok := msg.(*actors.HTTPRequest); ok {
			c.Respond(map[string]string{"word": req.Params["word"], "body": string(req.Body), "route": req.Route})
		}
	})
}

func TestWithActorServesRoutes(t *testing.T) {
	r := startActors(t, nil, WithActor("echo", echoActor))
	resp, err := http.Post(r.base()+"/api/v1/echo/hi", "text/plain", strings.NewReader("there"))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"word":"hi"`) || !strings.Contains(body, `"body":"there"`) ||
		!strings.Contains(body, `"route":"/api/v1/echo/:word"`) {
		t.Errorf("POST echo = %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, r.base()+"/api/v1/missing")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("route to an unknown actor = %d %v, want 503 problem with Retry-After", resp.StatusCode, resp.Header)
	}

	// The request metrics and the actor metrics share the /metrics page.
	// The actor records its processing time just after its reply has left,
	// so the page may need a moment to show it.
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, r.adminBase()+"/metrics")["troupe_actor_processing_duration_seconds"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("no troupe_actor_processing_duration_seconds on /metrics")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWithActorRejectsBadRegistrations(t *testing.T) {
	_, err := New("test", WithConfigLoader(testLoader(t, nil)),
		WithActor("", echoActor), WithActor("a", nil), WithActor("b", echoActor), WithActor("b", echoActor))
	if err == nil {
		t.Fatal("New accepted broken actor registrations")
	}
	mustContain(t, err.Error(), "actor 0: empty name", `actor "a": nil producer`, `actor "b": registered twice`)
}

// TestActorsDrainAtShutdown queues messages behind a busy actor and stops
// the service: every queued message is processed before Run returns.
func TestActorsDrainAtShutdown(t *testing.T) {
	g := newGate()
	r := startActors(t, nil, WithActor("gate", g.producer()))
	sys := r.svc.Actors()
	ref, err := sys.Lookup("gate")
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Send(ref, "hold"); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	for range 100 {
		if err := sys.Send(ref, "count"); err != nil {
			t.Fatal(err)
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop(t) }()
	close(g.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if n := g.seen.Load(); n != 100 {
		t.Errorf("processed %d of 100 queued messages before shutdown ended", n)
	}
	mustContain(t, r.logs.String(), `"msg":"subsystem stopped","subsystem":"actors"`)
}

// fill starts the service with env, parks the gate actor in Receive, and
// sends n more messages, returning each Send's error.
func fill(t *testing.T, env map[string]string, n int) (*running, *gate, []error) {
	t.Helper()
	g := newGate()
	r := startActors(t, env, WithActor("gate", g.producer()))
	ref, err := r.svc.Actors().Lookup("gate")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Actors().Send(ref, "hold"); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	errs := make([]error, n)
	for i := range errs {
		errs[i] = r.svc.Actors().Send(ref, "count")
	}
	t.Cleanup(func() { close(g.release) })
	return r, g, errs
}

func TestActorsMailboxConfig(t *testing.T) {
	t.Run("message_queue_size and reject", func(t *testing.T) {
		_, _, errs := fill(t, map[string]string{"ACTORS__MESSAGE_QUEUE_SIZE": "2", "ACTORS__OVERFLOW_POLICY": "reject"}, 3)
		if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], actors.ErrMailboxFull) {
			t.Errorf("sends into a 2-message mailbox = %v, want nil, nil, ErrMailboxFull", errs)
		}
		_, _, errs = fill(t, map[string]string{"ACTORS__OVERFLOW_POLICY": "reject"}, 3)
		if errors.Join(errs...) != nil {
			t.Errorf("sends into the default mailbox = %v, want no error", errs)
		}
	})
	t.Run("drop_newest", func(t *testing.T) {
		r, _, errs := fill(t, map[string]string{"ACTORS__MESSAGE_QUEUE_SIZE": "1", "ACTORS__OVERFLOW_POLICY": "drop_newest"}, 2)
		if errors.Join(errs...) != nil {
			t.Errorf("drop_newest sends = %v, want nil: the drop is the policy working", errs)
		}
		if got := r.svc.Actors().Stats().Dropped[actors.DropNewest]; got != 1 {
			t.Errorf("dropped newest = %d, want 1", got)
		}
	})
	t.Run("block_timeout", func(t *testing.T) {
		// A blocked Send gives up after block_timeout while the actor is
		// still busy; with a long timeout it waits for room.
		_, _, errs := fill(t, map[string]string{"ACTORS__MESSAGE_QUEUE_SIZE": "1", "ACTORS__BLOCK_TIMEOUT": "20ms"}, 2)
		if errs[0] != nil || !errors.Is(errs[1], actors.ErrMailboxFull) {
			t.Errorf("sends = %v, want nil then ErrMailboxFull after block_timeout", errs)
		}
	})
}

// TestActorsRestartConfig crashes an actor on purpose and observes the
// restart intensity and backoff keys.
func TestActorsRestartConfig(t *testing.T) {
	crasher := func() actors.Actor {
		return actorFunc(func(c *actors.Context, msg any) {
			if msg == "crash" {
				panic("crash on purpose")
			}
		})
	}
	// crash sends n crashes one after another and reports whether the actor
	// survived them, and the delay before the first restart.
	crash := func(t *testing.T, env map[string]string, n int) (alive bool, firstDelay time.Duration) {
		t.Helper()
		r := startActors(t, env, WithActor("crasher", crasher))
		sys := r.svc.Actors()
		events, cancel := sys.Events().Subscribe(64)
		defer cancel()
		ref, err := sys.Lookup("crasher")
		if err != nil {
			t.Fatal(err)
		}
		timeout := time.After(10 * time.Second)
		for i := range n {
			if err := sys.Send(ref, "crash"); err != nil {
				return false, firstDelay
			}
			for waiting := true; waiting; {
				select {
				case ev := <-events:
					switch ev := ev.(type) {
					case actors.ActorRestarted:
						if i == 0 {
							firstDelay = ev.Delay
						}
						waiting = false
					case actors.Escalated, actors.ActorStopped:
						return false, firstDelay
					}
				case <-timeout:
					t.Fatal("no restart or stop event")
				}
			}
		}
		_, err = sys.Lookup("crasher")
		return err == nil, firstDelay
	}

	if alive, _ := crash(t, map[string]string{"ACTORS__MAX_RESTARTS": "1"}, 3); alive {
		t.Error("max_restarts=1: the actor survived 3 failures in the window")
	}
	if alive, _ := crash(t, nil, 3); !alive {
		t.Error("default max_restarts: the actor did not survive 3 failures")
	}
	if alive, _ := crash(t, map[string]string{"ACTORS__MAX_RESTARTS": "1", "ACTORS__RESTART_WINDOW": "1ns"}, 3); !alive {
		t.Error("restart_window=1ns: failures further apart than the window still stopped the actor")
	}
	_, delay := crash(t, map[string]string{"ACTORS__BACKOFF_MIN": "60ms", "ACTORS__BACKOFF_MAX": "60ms"}, 1)
	if delay < 30*time.Millisecond || delay > 60*time.Millisecond {
		t.Errorf("backoff 60ms: first restart delay %v, want within [30ms, 60ms] (upper half, jittered)", delay)
	}
	_, delay = crash(t, map[string]string{"ACTORS__BACKOFF_MIN": "1ms", "ACTORS__BACKOFF_MAX": "2ms"}, 1)
	if delay > 2*time.Millisecond {
		t.Errorf("backoff_max 2ms: first restart delay %v", delay)
	}
}

// TestActorsShutdownTimeout parks an actor in Receive for good: shutdown
// gives up after actors.shutdown_timeout and Run says so.
func TestActorsShutdownTimeout(t *testing.T) {
	g := newGate()
	r := startActors(t, map[string]string{"ACTORS__SHUTDOWN_TIMEOUT": "50ms"}, WithActor("gate", g.producer()))
	defer close(g.release)
	ref, _ := r.svc.Actors().Lookup("gate")
	if err := r.svc.Actors().Send(ref, "hold"); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	err := r.stop(t)
	if err == nil || !strings.Contains(err.Error(), "actors.shutdown_timeout (50ms)") {
		t.Errorf("Run = %v, want an error naming actors.shutdown_timeout", err)
	}
}

// TestHandlerServesActorRoutes serves an actor route through Handler,
// without Run: the request context lacks the server's base context, so the
// handler adds the actor system for actors.Route.
func TestHandlerServesActorRoutes(t *testing.T) {
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.POST("/echo/:word", actors.Route("echo"))
	})
	svc, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(io.Discard), WithAPI(api))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.release)
	if _, err := svc.Actors().Spawn("echo", echoActor); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Actors().Shutdown(context.Background()) })
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/echo/hi", strings.NewReader("there")))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"word":"hi"`) {
		t.Errorf("POST echo through Handler = %d %s", rec.Code, rec.Body)
	}
}
