package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/problem"
)

// noteKind is the sharded entity kind of a note: the entity "note/<id>"
// owns note id, activated on its first message on one node of the cluster
// and passivated when idle (actors.sharding.idle_timeout). Its state is
// in the notebook (the service's store), so it is the same on whichever
// node the entity runs, and outlives a node that dies.
const noteKind = "note"

// noteActor is one note's entity. It loads the note at its first
// message, and writes it through the store before it answers.
type noteActor struct {
	id     int
	book   notebook
	loaded bool
	n      storedNote
	exists bool
}

// noteCreate asks a note's entity to store its note, which the notes
// actor made with the entity's ID. The reply is the note.
type noteCreate struct {
	Note storedNote `json:"note"`
}

// newNoteActor is the entity producer: key is the note's ID.
func newNoteActor(book func() notebook) func(key string) actors.Actor {
	return func(key string) actors.Actor {
		id, _ := strconv.Atoi(key) // the notes actor makes keys from IDs
		return &noteActor{id: id, book: book()}
	}
}

func (a *noteActor) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case *actors.HTTPRequest, noteCreate, noteEntity, []byte:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(c.Context(), storeTimeout)
	defer cancel()
	if err := a.load(ctx); err != nil {
		c.Respond(storeUnavailable(err))
		return
	}
	switch m := msg.(type) {
	case *actors.HTTPRequest:
		c.Respond(a.serve(ctx, c, m))
	case noteCreate:
		c.Respond(a.create(ctx, c, m.Note))
	case noteEntity:
		c.Respond(a.owner())
	case []byte:
		c.Respond(a.query())
	}
}

// load reads the note once per activation.
func (a *noteActor) load(ctx context.Context) error {
	if a.loaded {
		return nil
	}
	s, ok, err := a.book.get(ctx, a.id)
	if err != nil {
		return err
	}
	a.n, a.exists, a.loaded = s, ok, true
	return nil
}

func (a *noteActor) serve(ctx context.Context, c *actors.Context, req *actors.HTTPRequest) any {
	if !a.exists {
		return problem.NewError(http.StatusNotFound, fmt.Sprintf("note %d does not exist", a.id))
	}
	switch req.Method {
	case http.MethodGet:
		return a.n.note
	case http.MethodDelete:
		if err := a.book.remove(ctx, a.id); err != nil {
			return storeUnavailable(err)
		}
		a.exists = false
		publish(c, "deleted", a.id, nil)
		return &actors.HTTPResponse{Status: http.StatusNoContent}
	}
	return problem.NewError(http.StatusNotFound, "no such notes route")
}

func (a *noteActor) create(ctx context.Context, c *actors.Context, s storedNote) any {
	if a.exists || s.ID != a.id {
		return fmt.Errorf("note %d: created twice, or with ID %d", a.id, s.ID)
	}
	if err := a.book.put(ctx, s); err != nil {
		return storeUnavailable(err)
	}
	a.n, a.exists = s, true
	publish(c, "created", s.ID, &s.note)
	return s.note
}

// owner answers the authorizer's noteEntity.
func (a *noteActor) owner() noteOwner {
	if !a.exists {
		return noteOwner{}
	}
	return noteOwner{Found: true, Title: a.n.Title, OwnerType: a.n.OwnerType, Owner: a.n.Owner}
}

// query answers a component's noteQuery, forwarded by the notes actor.
func (a *noteActor) query() []byte {
	var reply any = map[string]any{"note": a.n.note}
	if !a.exists {
		reply = map[string]string{"error": "not_found"}
	}
	out, _ := json.Marshal(reply)
	return out
}

// storeUnavailable is the answer when the store cannot be reached (NATS
// down, a replicated bucket electing a leader): 503, retry shortly.
func storeUnavailable(err error) error {
	pe := problem.NewError(http.StatusServiceUnavailable, "the notes store is unavailable; retry shortly").WithHeader("Retry-After", "1")
	pe.Err = err
	return pe
}
