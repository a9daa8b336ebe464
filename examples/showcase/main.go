// Command showcase is the example that grows with Troupe: every feature is
// shown working here. Today it serves a notes API in two versions — v1
// deprecated with a sunset on 2027-06-01 and v2 as its successor — from a
// notes actor that keeps 200 seeded notes in memory and publishes an event
// for every change, which a stats actor counts.
//
//	go run ./examples/showcase
//	curl -i localhost:8080/api/v2/notes/1
package main

import (
	"os"
	"time"

	"github.com/troupehq/troupe/actors"
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
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/notes", notes)
		}).
		Version(2, func(g *versioning.Group) {
			g.GET("/notes", notes)
			g.GET("/notes/:id", notes)
			g.POST("/notes", notes)
			g.DELETE("/notes/:id", notes)
			g.GET("/stats", actors.Route("stats"))
		}).
		Deprecate(1, versioning.Sunset(sunsetV1), versioning.Successor(2))
	return []service.Option{
		service.WithAPI(api),
		// stats first: it must be subscribed before notes publishes.
		service.WithActor("stats", func() actors.Actor { return &statsActor{} }),
		service.WithActor("notes", func() actors.Actor { return &notesActor{store: newNoteStore(200)} }),
	}
}
