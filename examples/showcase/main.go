// Command showcase is the example that grows with Troupe: every feature is
// shown working here. Today it serves a notes API in two versions — v1
// deprecated with a sunset on 2027-06-01 and v2 as its successor — from a
// notes actor that keeps notes in memory (app.seed_notes of them seeded) and publishes an event
// for every change, which a stats actor counts and a live actor streams to
// the realtime feed. Note summaries come from a sandboxed WASM component,
// summarizer. A page at /live shows the feed and a chat room.
//
//	go run ./examples/showcase
//	curl -i localhost:8080/api/v2/notes/1
//	open http://localhost:8080/live
package main

import (
	"os"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/realtime"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

// sunsetV1 is when /api/v1 stops answering (410 Gone afterwards).
var sunsetV1 = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)

func main() {
	os.Exit(service.Main("showcase", options()...))
}

// options is shared by main and the tests that start the example.
func options() []service.Option {
	notes := actors.Route("notes")
	app := &settings{SeedNotes: 200}
	demo := &demoActors{app: app}
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/notes", notes)
		}).
		Version(2, func(g *versioning.Group) {
			g.GET("/notes", notes)
			g.GET("/notes/:id", notes)
			// Served by a WASM component: examples/showcase/components/summarizer.
			g.GET("/notes/:id/summary", actors.Route("summarizer"))
			g.POST("/notes", notes)
			g.DELETE("/notes/:id", notes).Resource("Note", "id")
			g.GET("/stats", actors.Route("stats"))
			// Live: the notes feed (WebSocket, or SSE for Accept:
			// text/event-stream) and chat rooms, whose messages are
			// published to everyone in the room with the sender and time.
			g.WS("/notes/live", realtime.Handler(realtime.Endpoint{Rooms: []string{"notes"}}))
			g.WS("/rooms/:room", realtime.Handler(realtime.Endpoint{Rooms: []string{"chat.:room"}, PublishInbound: true}))
			// Only with app.demo_routes = true (demo.go).
			g.GET("/demo/cycle", demoRoute(app))
		}).
		Deprecate(1, versioning.Sunset(sunsetV1), versioning.Successor(2))
	var hub *realtime.Hub // set once New has built it, before any actor starts
	var store state.Store // the service's state store, likewise
	return []service.Option{
		service.WithAPI(api),
		// The showcase's own settings: [app] in its config, SHOWCASE_APP__*.
		service.WithAppConfig(app),
		// Authentication turns on with SHOWCASE_AUTH__JWT__HMAC_SECRET (32+
		// bytes); these defaults then say whose tokens to accept and which
		// policies apply. Without a secret every route is public.
		service.WithConfigDefaults(func(c *config.Config) {
			c.Auth.JWT.Issuer = "showcase"
			c.Auth.JWT.Audience = []string{"showcase-api"}
			c.Auth.Cedar.Policies = showcaseDir("policies")
			c.Auth.PublicPaths = []string{"GET /api"}
			// 60/min per anonymous IP and 600/min per user (the defaults);
			// shared through Redis when SHOWCASE_REDIS__URL is set.
			c.RateLimit.Enabled = true
			// Browsers cannot put a token on a WebSocket handshake; the
			// live page's connections carry it in this cookie.
			c.Auth.JWT.Cookie = "showcase_token"
			// The live page runs its own scripts and opens WebSockets to
			// its own origin; nothing else.
			c.SecurityHeaders.ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; frame-ancestors 'none'"
			// The inspector traces one message in ten: the console at
			// the admin listener's /console has figures to show.
			c.Inspect.Mode = "analysis"
		}),
		// The live page and the realtime client it loads.
		service.WithAssets("/live", webFS()),
		service.WithAssets("/assets/realtime", realtime.ClientFS),
		// The feed keeps its last 100 events for clients that reconnect;
		// chat rooms their last 50 messages, and who is in them.
		service.WithRealtime(realtime.WithRooms(
			realtime.RoomConfig{Pattern: "notes", History: 100},
			realtime.RoomConfig{Pattern: "chat.*", History: 50, Presence: true},
		)),
		service.WithSetup(func(s *service.Service) error { hub, store = s.Realtime(), s.State(); return nil }),
		// The summarizer component; built from its Go source on first start
		// when its .wasm is missing (actors.components.build_missing).
		service.WithComponents(showcaseDir("components")),
		service.WithEntityProvider(noteEntities),
		// stats and live first: they must be subscribed before notes publishes.
		// As a cluster (actors.cluster.enabled, cluster.sh) every node runs
		// the same code: stats is a singleton, one instance counting the
		// events of every node, which moves when its node leaves; live is
		// a pool, one member per node, feeding that node's realtime clients
		// the events of every node. On one node both options change nothing.
		service.WithActor("stats", func() actors.Actor { return &statsActor{} }, actors.WithSingleton()),
		service.WithActor("live", func() actors.Actor { return &liveActor{hub: hub} }, actors.WithPool()),
		// Each note is a sharded entity, "note/<id>", whose state is in the
		// service's store (JetStream KV in a cluster, memory alone); notes,
		// on every node, lists them, creates them and forwards the rest to
		// the note's entity. It seeds app.seed_notes notes before its first
		// request, unless the store has notes already.
		service.WithEntity(noteKind, newNoteActor(func() notebook { return notebook{store: store} })),
		service.WithActor("notes", func() actors.Actor {
			return &notesActor{book: notebook{store: store}, seed: app.SeedNotes, keys: idempotency{store: store}}
		}, actors.WithPool()),
		// The demos' actors, spawned only with app.demo_routes.
		service.WithSubsystem(demo),
		service.WithSetup(func(s *service.Service) error { demo.svc = s; return nil }),
	}
}

// showcaseDir finds a directory of the showcase (its Cedar policies, its
// components) whether it runs from the repository root (go run
// ./examples/showcase) or from its own directory (its tests).
func showcaseDir(name string) string {
	for _, dir := range []string{"examples/showcase/" + name, name} {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	return "examples/showcase/" + name
}
