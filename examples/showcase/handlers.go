package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cedar-policy/cedar-go"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/problem"
)

const maxTitleLen = 200

// notesActor serves the notes routes: every request reaches it through
// actors.Route("notes") as an *actors.HTTPRequest, one at a time, so the
// store needs no lock. It publishes a noteEvent on notes.events.<kind> for
// every note created or deleted.
type notesActor struct {
	store *noteStore
	keys  *idempotency // answers to creates with an Idempotency-Key
}

// newNotesActor returns a notes actor with seed notes.
func newNotesActor(seed int) *notesActor {
	return &notesActor{store: newNoteStore(seed), keys: newIdempotency()}
}

// noteEvent is published on notes.events.created and notes.events.deleted.
type noteEvent struct {
	Kind string
	ID   int
	// Note is the note created; nil for a deletion.
	Note *note
}

// noteEntity asks the notes actor who owns a note, for the owner-only
// delete policy. In a cluster it crosses nodes, so its fields are exported
// and it has a wire name (wire.go).
type noteEntity struct {
	ID int `json:"id"`
}

// noteOwner is the notes actor's answer to noteEntity: the note's title
// and owner, from which the entity provider builds the Cedar entity.
type noteOwner struct {
	Found bool   `json:"found"`
	Title string `json:"title,omitempty"`
	// OwnerType is the owner's Cedar entity type (User or Client), "" for
	// a note nobody owns.
	OwnerType string `json:"owner_type,omitempty"`
	Owner     string `json:"owner,omitempty"`
}

// Receive answers each routed request with the reply Route renders, and
// the authorizer's questions about notes.
func (a *notesActor) Receive(c *actors.Context, msg any) {
	switch m := msg.(type) {
	case *actors.HTTPRequest:
		c.Respond(a.serve(c, m))
	case noteEntity:
		c.Respond(a.owner(m.ID))
	case []byte:
		c.Respond(a.query(m))
	}
}

// noteQuery is how WASM components, which exchange bytes, ask the notes
// actor for a note: {"get": 3}. The reply is {"note": {...}}, or
// {"error": "not_found"} when there is no such note.
type noteQuery struct {
	Get int `json:"get"`
}

// query answers a component's noteQuery with JSON bytes.
func (a *notesActor) query(msg []byte) []byte {
	var q noteQuery
	if err := json.Unmarshal(msg, &q); err != nil {
		out, _ := json.Marshal(map[string]string{"error": "bad_query"})
		return out
	}
	n, ok := a.store.get(q.Get)
	var reply any = map[string]any{"note": n}
	if !ok {
		reply = map[string]string{"error": "not_found"}
	}
	out, _ := json.Marshal(reply)
	return out
}

// owner answers noteEntity.
func (a *notesActor) owner(id int) noteOwner {
	n, ok := a.store.get(id)
	if !ok {
		return noteOwner{}
	}
	return noteOwner{Found: true, Title: n.Title, OwnerType: n.ownerEntity, Owner: n.Owner}
}

func (a *notesActor) serve(c *actors.Context, req *actors.HTTPRequest) any {
	switch req.Method + " " + req.Route {
	case "GET /api/v1/notes":
		return a.listV1()
	case "GET /api/v2/notes":
		notes := a.store.list()
		return noteList{Count: len(notes), Notes: notes}
	case "GET /api/v2/notes/:id":
		id, err := noteID(req)
		if err != nil {
			return err
		}
		n, ok := a.store.get(id)
		if !ok {
			return problem.NewError(http.StatusNotFound, fmt.Sprintf("note %d does not exist", id))
		}
		return n
	case "POST /api/v2/notes":
		return a.create(c, req)
	case "DELETE /api/v2/notes/:id":
		id, err := noteID(req)
		if err != nil {
			return err
		}
		if !a.store.delete(id) {
			return problem.NewError(http.StatusNotFound, fmt.Sprintf("note %d does not exist", id))
		}
		a.publish(c, "deleted", id, nil)
		return &actors.HTTPResponse{Status: http.StatusNoContent}
	}
	return problem.NewError(http.StatusNotFound, "no such notes route")
}

// noteList is the body of GET /api/v2/notes.
type noteList struct {
	Count int    `json:"count"`
	Notes []note `json:"notes"`
}

// noteV1 is the v1 shape of a note: no timestamps.
type noteV1 struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// listV1 is GET /api/v1/notes: a bare array, the v1 contract.
func (a *notesActor) listV1() []noteV1 {
	notes := a.store.list()
	out := make([]noteV1, len(notes))
	for i, n := range notes {
		out[i] = noteV1{ID: n.ID, Title: n.Title, Body: n.Body}
	}
	return out
}

type createRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// create is POST /api/v2/notes: 201 with a Location header. With an
// Idempotency-Key, a retry gets the first answer again (idempotency.go).
func (a *notesActor) create(c *actors.Context, req *actors.HTTPRequest) any {
	key, err := idempotencyKey(req)
	if err != nil {
		return err
	}
	if key != "" {
		if r := a.keys.replay(key, req.Body); r != nil {
			return r
		}
	}
	resp := a.add(c, req)
	if r, ok := resp.(*actors.HTTPResponse); ok && key != "" {
		a.keys.remember(key, req.Body, r)
	}
	return resp
}

// add decodes and checks a new note, stores it and announces it.
func (a *notesActor) add(c *actors.Context, req *actors.HTTPRequest) any {
	var cr createRequest
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cr); err != nil {
		return badJSON(err)
	}
	if dec.More() {
		return problem.NewError(http.StatusBadRequest, "request body must be a single JSON object")
	}
	cr.Title = strings.TrimSpace(cr.Title)
	switch {
	case cr.Title == "":
		return problem.NewError(http.StatusBadRequest, "title is required")
	case utf8.RuneCountInString(cr.Title) > maxTitleLen:
		return problem.NewError(http.StatusBadRequest, fmt.Sprintf("title is longer than %d characters", maxTitleLen))
	}
	n := a.store.add(cr.Title, cr.Body, time.Now(), req.Principal)
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	a.publish(c, "created", n.ID, &n)
	return &actors.HTTPResponse{
		Status: http.StatusCreated,
		Header: http.Header{"Location": {"/api/v2/notes/" + strconv.Itoa(n.ID)}, "Content-Type": {"application/json"}},
		Body:   body,
	}
}

// publish announces a change; with nobody subscribed it is simply not
// delivered.
func (a *notesActor) publish(c *actors.Context, kind string, id int, n *note) {
	if _, err := c.System().Publish("notes.events."+kind, noteEvent{Kind: kind, ID: id, Note: n}); err != nil {
		c.Logger().Error("publishing a note event", "error", err)
	}
}

func noteID(req *actors.HTTPRequest) (int, error) {
	id, err := strconv.Atoi(req.Params["id"])
	if err != nil || id < 1 {
		return 0, problem.NewError(http.StatusNotFound, fmt.Sprintf("note %q does not exist", req.Params["id"]))
	}
	return id, nil
}

// badJSON turns a decoding error into a 400 that says what was wrong.
func badJSON(err error) error {
	if errors.Is(err, io.EOF) {
		pe := problem.NewError(http.StatusBadRequest, "request body is empty; expected a JSON object")
		pe.Err = err
		return pe
	}
	pe := problem.NewError(http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	pe.Err = err
	return pe
}

// statsActor counts note events from the notes.events topic and answers
// GET /api/v2/stats.
type statsActor struct {
	created, deleted int
}

// stats is the body of GET /api/v2/stats.
type stats struct {
	Created int `json:"created"`
	Deleted int `json:"deleted"`
}

// Receive subscribes at start (again after a restart), counts events and
// answers routed requests.
func (a *statsActor) Receive(c *actors.Context, msg any) {
	switch m := msg.(type) {
	case actors.Started:
		if _, err := c.Subscribe("notes.events.*"); err != nil {
			panic(err) // a constant, valid pattern: failing here is a bug
		}
	case noteEvent:
		switch m.Kind {
		case "created":
			a.created++
		case "deleted":
			a.deleted++
		}
	case *actors.HTTPRequest:
		c.Respond(stats{Created: a.created, Deleted: a.deleted})
	}
}

// noteEntities is the authorizer's EntityProvider: it asks the notes actor
// for Note entities, so policies can read a note's owner. It is called with
// the request's context, which carries the service's actor system.
var noteEntities = authz.EntityProviderFunc(func(ctx context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error) {
	id, err := strconv.Atoi(string(uid.ID))
	if uid.Type != "Note" || err != nil {
		return cedar.Entity{}, false, nil
	}
	sys := actors.FromContext(ctx)
	if sys == nil { // not served by the service: deny, and say why in the log
		return cedar.Entity{}, false, errors.New("no actor system in the request context")
	}
	ref, err := sys.Lookup("notes")
	if err != nil {
		return cedar.Entity{}, false, err
	}
	reply, err := sys.Request(ctx, ref, noteEntity{ID: id})
	if err != nil {
		return cedar.Entity{}, false, err
	}
	o, _ := reply.(noteOwner)
	if !o.Found {
		return cedar.Entity{}, false, nil
	}
	attrs := cedar.RecordMap{"title": cedar.String(o.Title)}
	if o.Owner != "" {
		attrs["owner"] = cedar.NewEntityUID(cedar.EntityType(o.OwnerType), cedar.String(o.Owner))
	}
	return cedar.Entity{UID: uid, Attributes: cedar.NewRecord(attrs)}, true, nil
})
