package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/problem"
	"github.com/troupehq/troupe/service"
)

// The cycle demo: GET /api/v2/demo/cycle asks demo-a, which asks demo-b,
// which asks demo-a back. demo-a is inside Receive waiting for demo-b, so
// it cannot answer: a request cycle, which the inspector reports at once
// (/inspect/cycles, the console, a log line, troupe_inspect_cycles_total).
// With inspect.fail_cycles the innermost request fails with
// actors.ErrCycle and the route answers 508 Loop Detected; without, the
// cycle lasts until demoDeadline and the route answers 504.

// demoDeadline bounds the demo's cycle: long enough to watch it in the
// console, short enough not to tie up a request for http.request_timeout.
const demoDeadline = 3 * time.Second

// Demo actor names.
const (
	demoA = "demo-a"
	demoB = "demo-b"
)

// demoPing and demoPong travel the cycle.
type (
	demoPing struct{}
	demoPong struct{}
)

// demoActor is demo-a (which the route asks) or demo-b.
type demoActor struct{}

func (d *demoActor) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case *actors.HTTPRequest:
		ctx, cancel := context.WithTimeout(c.Context(), demoDeadline)
		defer cancel()
		c.Respond(demoOutcome(d.ask(c, ctx, demoB, demoPing{})))
	case demoPing:
		// demo-b: ask demo-a, which is waiting for us.
		_, err := d.ask(c, c.Context(), demoA, demoPong{})
		c.Respond(err)
	case demoPong:
		c.Respond("pong") // never reached while demo-a waits
	}
}

// ask requests name and returns the reply's error, if the reply is one.
func (d *demoActor) ask(c *actors.Context, ctx context.Context, name string, msg any) (any, error) {
	ref, err := c.System().Lookup(name)
	if err != nil {
		return nil, err
	}
	v, err := c.Request(ctx, ref, msg)
	if e, ok := v.(error); ok && err == nil {
		err = e
	}
	return v, err
}

// demoOutcome is the route's answer.
func demoOutcome(_ any, err error) any {
	switch {
	case errors.Is(err, actors.ErrCycle):
		return problem.NewError(http.StatusLoopDetected, "request cycle detected and failed fast: "+err.Error())
	case errors.Is(err, actors.ErrTimeout):
		return problem.NewError(http.StatusGatewayTimeout,
			fmt.Sprintf("the demo's request cycle waited for its %s deadline; the inspector reported it while it waited (see /inspect/cycles)", demoDeadline))
	case err != nil:
		return err
	}
	return map[string]string{"result": "no cycle"}
}

// demoRoute serves the demo when app.demo_routes is on, and answers 404
// like any unknown route otherwise.
func demoRoute(app *settings) echo.HandlerFunc {
	route := actors.Route(demoA)
	return func(c echo.Context) error {
		if !app.DemoRoutes {
			return problem.NewError(http.StatusNotFound, "no route for this path")
		}
		return route(c)
	}
}

// demoActors spawns the demo's actors at start when app.demo_routes is on.
type demoActors struct {
	app *settings
	svc *service.Service
}

func (d *demoActors) Name() string { return "demo" }

func (d *demoActors) Start(context.Context) error {
	if !d.app.DemoRoutes {
		return nil
	}
	// A subsystem starts before the actor system joins the cluster, and a
	// clustered system refuses to join with named actors it cannot know
	// were free (docs/cluster.md): say so now rather than let the join
	// retry until actors.cluster.join_timeout.
	if d.svc.Config().Actors.Cluster.Enabled {
		return &config.Error{Key: "app.demo_routes", Source: d.svc.EffectiveConfig().Source("app.demo_routes"),
			Err: errors.New("the request-cycle demo runs on one node: turn it off, or actors.cluster.enabled")}
	}
	for _, name := range []string{demoA, demoB} {
		if _, err := d.svc.Actors().SpawnActor(name, &demoActor{}); err != nil {
			return fmt.Errorf("spawning %s: %w", name, err)
		}
	}
	return nil
}

// Stop does nothing: the actor system stops the demo's actors.
func (d *demoActors) Stop(context.Context) error { return nil }
