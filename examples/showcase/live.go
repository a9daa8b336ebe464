package main

import (
	"embed"
	"io/fs"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/realtime"
)

// web is the live page: GET /live, its script and style.
//
//go:embed web
var web embed.FS

// webFS is web's directory as the root WithAssets serves under /live.
func webFS() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	return sub
}

// liveEvent is what the notes feed streams, as JSON in a room message.
type liveEvent struct {
	Event string `json:"event"` // "created" or "deleted"
	ID    int    `json:"id"`
	Note  *note  `json:"note,omitempty"`
}

// liveActor relays the notes actor's events to the realtime room "notes",
// which every client of GET /api/v2/notes/live has joined. The notes actor
// knows nothing of connections: it publishes on an actor subject, as it
// did before the feed existed, and this actor is one more subscriber.
type liveActor struct {
	hub *realtime.Hub
}

// Receive subscribes at start and publishes each event to the room.
func (a *liveActor) Receive(c *actors.Context, msg any) {
	switch m := msg.(type) {
	case actors.Started:
		if _, err := c.Subscribe("notes.events.*"); err != nil {
			panic(err) // a constant, valid pattern
		}
	case noteEvent:
		if err := a.hub.Publish("notes", liveEvent{Event: m.Kind, ID: m.ID, Note: m.Note}); err != nil {
			c.Logger().Warn("publishing a note to the live feed", "error", err)
		}
	}
}
