// Command showcase is the example that grows with Troupe: every feature is
// shown working here. Today it serves a notes API kept in memory, seeded with
// 200 notes, in two versions — v1 deprecated with a sunset on 2027-06-01 and
// v2 as its successor.
//
//	go run ./examples/showcase
//	curl -i localhost:8080/api/v2/notes/1
package main

import (
	"os"
	"time"

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
	h := &handlers{store: newNoteStore(200)}
	api := versioning.New("/api").
		Version(1, func(g *versioning.Group) {
			g.GET("/notes", h.listV1)
		}).
		Version(2, func(g *versioning.Group) {
			g.GET("/notes", h.list)
			g.GET("/notes/:id", h.get)
			g.POST("/notes", h.create)
			g.DELETE("/notes/:id", h.delete)
		}).
		Deprecate(1, versioning.Sunset(sunsetV1), versioning.Successor(2))
	return []service.Option{service.WithAPI(api)}
}
