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
// actors.Route("notes") as an *actors.HTTPRequest. It runs on every node
// (a pool member, actors.WithPool()): it lists the notes from the
// notebook, creates a note by taking the next ID and asking that note's
// entity to store it, and forwards everything else about one note —
// reads, deletes, the summarizer component's questions — to the note's
// entity, which answers the caller. (The authorizer asks the entity
// directly.) Each create or delete
// is published by the entity on notes.events.<kind>.
type notesActor struct {
	book   notebook
	seed   int         // app.seed_notes
	seeded bool        // the notebook has its index (seeded here or elsewhere)
	keys   idempotency // answers to creates with an Idempotency-Key
}

// noteEvent is published on notes.events.created and notes.events.deleted.
type noteEvent struct {
	Kind string
	ID   int
	// Note is the note created; nil for a deletion.
	Note *note
}

// noteEntity asks who owns a note, for the owner-only delete policy. In a
// cluster it crosses nodes, so its fields are exported and it has a wire
// name (wire.go).
type noteEntity struct {
	ID int `json:"id"`
}

// noteOwner is the answer to noteEntity: the note's title and owner, from
// which the entity provider builds the Cedar entity.
type noteOwner struct {
	Found bool   `json:"found"`
	Title string `json:"title,omitempty"`
	// OwnerType is the owner's Cedar entity type (User or Client), "" for
	// a note nobody owns.
	OwnerType string `json:"owner_type,omitempty"`
	Owner     string `json:"owner,omitempty"`
}

// noteQuery is how WASM components, which exchange bytes, ask the notes
// actor for a note: {"get": 3}. The reply is {"note": {...}}, or
// {"error": "not_found"} when there is no such note.
type noteQuery struct {
	Get int `json:"get"`
}

// Receive answers each routed request and the component's questions,
// seeding the notebook before the first.
func (a *notesActor) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case *actors.HTTPRequest, []byte:
	default:
		return
	}
	if !a.seeded {
		ctx, cancel := context.WithTimeout(c.Context(), storeTimeout)
		err := a.book.seed(ctx, a.seed)
		cancel()
		if err != nil {
			c.Respond(storeUnavailable(fmt.Errorf("seeding the notes: %w", err)))
			return
		}
		a.seeded = true
	}
	switch m := msg.(type) {
	case *actors.HTTPRequest:
		if r := a.serve(c, m); r != nil {
			c.Respond(r)
		}
	case []byte:
		var q noteQuery
		if err := json.Unmarshal(m, &q); err != nil || q.Get < 1 {
			c.Respond([]byte(`{"error":"bad_query"}`))
			return
		}
		a.forward(c, q.Get)
	}
}

// forward hands the current message to note id's entity, which answers
// the caller. A forward fails when no node can take the entity at that
// moment — its node just died and its lease has not lapsed, or NATS is
// down — which a retry shortly after gets past: 503.
func (a *notesActor) forward(c *actors.Context, id int) {
	ref, err := c.System().Entity(noteKind, strconv.Itoa(id))
	if err == nil {
		err = c.Forward(ref)
	}
	if err != nil {
		pe := problem.NewError(http.StatusServiceUnavailable, fmt.Sprintf("note %d is moving to another node; retry shortly", id)).WithHeader("Retry-After", "1")
		pe.Err = err
		c.Respond(pe)
	}
}

// serve answers a routed request, or returns nil when it forwarded it.
func (a *notesActor) serve(c *actors.Context, req *actors.HTTPRequest) any {
	switch req.Method + " " + req.Route {
	case "GET /api/v1/notes", "GET /api/v2/notes":
		ctx, cancel := context.WithTimeout(c.Context(), storeTimeout)
		defer cancel()
		notes, err := a.book.list(ctx)
		if err != nil {
			return storeUnavailable(err)
		}
		if req.Route == "/api/v1/notes" {
			return listV1(notes)
		}
		return noteList{Count: len(notes), Notes: notes}
	case "GET /api/v2/notes/:id", "DELETE /api/v2/notes/:id":
		id, err := noteID(req)
		if err != nil {
			return err
		}
		a.forward(c, id)
		return nil
	case "POST /api/v2/notes":
		return a.create(c, req)
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
func listV1(notes []note) []noteV1 {
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
	cr, err := decodeCreate(req)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context(), storeTimeout)
	defer cancel()
	if key != "" {
		if r := a.keys.claim(ctx, key, req.Body); r != nil {
			return r
		}
	}
	resp := a.add(ctx, c, cr, req)
	if key != "" {
		a.keys.settle(ctx, key, req.Body, resp)
	}
	return resp
}

// add takes the next ID and has the new note's entity store it.
func (a *notesActor) add(ctx context.Context, c *actors.Context, cr createRequest, req *actors.HTTPRequest) any {
	id, err := a.book.allocate(ctx)
	if err != nil {
		return storeUnavailable(err)
	}
	ref, err := c.System().Entity(noteKind, strconv.Itoa(id))
	if err != nil {
		return err
	}
	reply, err := c.Request(ctx, ref, noteCreate{Note: newNote(id, cr.Title, cr.Body, time.Now(), req.Principal)})
	if err != nil {
		return storeUnavailable(err)
	}
	n, ok := reply.(note)
	if !ok {
		return reply // the entity's error
	}
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return &actors.HTTPResponse{
		Status: http.StatusCreated,
		Header: http.Header{"Location": {"/api/v2/notes/" + strconv.Itoa(n.ID)}, "Content-Type": {"application/json"}},
		Body:   body,
	}
}

// decodeCreate reads and checks a create request's body.
func decodeCreate(req *actors.HTTPRequest) (createRequest, error) {
	var cr createRequest
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cr); err != nil {
		return cr, badJSON(err)
	}
	if dec.More() {
		return cr, problem.NewError(http.StatusBadRequest, "request body must be a single JSON object")
	}
	cr.Title = strings.TrimSpace(cr.Title)
	switch {
	case cr.Title == "":
		return cr, problem.NewError(http.StatusBadRequest, "title is required")
	case utf8.RuneCountInString(cr.Title) > maxTitleLen:
		return cr, problem.NewError(http.StatusBadRequest, fmt.Sprintf("title is longer than %d characters", maxTitleLen))
	}
	return cr, nil
}

// publish announces a change; with nobody subscribed it is simply not
// delivered.
func publish(c *actors.Context, kind string, id int, n *note) {
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

// noteEntities is the authorizer's EntityProvider: it asks the note's
// entity who owns it, so policies can read a note's owner. It is called with
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
	ref, err := sys.Entity(noteKind, strconv.Itoa(id))
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
