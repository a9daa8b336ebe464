package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/authz"
)

// note is one note of the showcase's notes API.
type note struct {
	ID        int       `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	// Owner is the subject of the principal that created the note, ""
	// for seeded notes and when authentication is off.
	Owner string `json:"owner,omitempty"`
}

// storedNote is a note as the store keeps it: with its owner's Cedar
// entity type (User or Client), which the API does not show.
type storedNote struct {
	note
	OwnerType string `json:"owner_type,omitempty"`
}

// newNote makes note id; owner is nil for a seeded note.
func newNote(id int, title, body string, at time.Time, owner *authz.Principal) storedNote {
	n := storedNote{note: note{ID: id, Title: title, Body: body, CreatedAt: at.UTC()}}
	if owner != nil {
		n.Owner, n.OwnerType = owner.Subject, string(authz.PrincipalUID(owner).Type)
	}
	return n
}

// notebook keeps the notes in the service's state store (svc.State()):
// JetStream KV when NATS is on, so every node reads the same notes and a
// note outlives its node; process memory on one node alone. Each note is
// one key, written by its note entity; one more key, the index, holds the
// next ID and the IDs that exist, for the list routes and for IDs unique
// in the cluster.
type notebook struct {
	store state.Store
}

// Store keys: "notes/<id>" per note, "notes-index" for the index (not
// under "notes/", so no note ID can name it).
const indexKey = "notes-index"

func noteKey(id int) string { return "notes/" + strconv.Itoa(id) }

// index is the value of indexKey.
type index struct {
	Next int   `json:"next"`
	IDs  []int `json:"ids"`
}

// storeTimeout bounds one store call made for a request. A replicated
// bucket without a leader (a node just died) can leave a call unanswered
// until its context ends; the move takes about a second.
const storeTimeout = 5 * time.Second

// seed writes n seed notes and the index, unless an index exists: the
// notes of a previous run (a file store) or of another node that seeded
// first. Nodes starting together may all write the seed notes, which are
// the same; the index is created once (PutIf 0).
func (b notebook) seed(ctx context.Context, n int) error {
	if _, err := b.store.Get(ctx, indexKey); !errors.Is(err, state.ErrNotFound) {
		return err // nil: seeded already
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ix := index{Next: n + 1, IDs: make([]int, n)}
	for i := 1; i <= n; i++ {
		nt := newNote(i, fmt.Sprintf("Note %d", i), fmt.Sprintf("This is seeded note number %d.", i), at.Add(time.Duration(i)*time.Minute), nil)
		if err := b.put(ctx, nt); err != nil {
			return err
		}
		ix.IDs[i-1] = i
	}
	v, _ := json.Marshal(ix)
	if _, err := b.store.PutIf(ctx, indexKey, v, 0); err != nil && !errors.Is(err, state.ErrConflict) {
		return err
	}
	return nil
}

func (b notebook) put(ctx context.Context, n storedNote) error {
	v, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return b.store.Put(ctx, noteKey(n.ID), v)
}

// get reads note id; ok is false when there is none.
func (b notebook) get(ctx context.Context, id int) (n storedNote, ok bool, err error) {
	v, err := b.store.Get(ctx, noteKey(id))
	switch {
	case errors.Is(err, state.ErrNotFound):
		return storedNote{}, false, nil
	case err != nil:
		return storedNote{}, false, err
	}
	return n, true, json.Unmarshal(v, &n)
}

// remove deletes note id and unlists it.
func (b notebook) remove(ctx context.Context, id int) error {
	if err := b.store.Delete(ctx, noteKey(id)); err != nil {
		return err
	}
	return b.unlist(ctx, id)
}

// allocate takes the next ID and lists it in the index: a read-modify-
// write retried on conflict, so two nodes creating at once never get the
// same ID.
func (b notebook) allocate(ctx context.Context) (int, error) {
	var id int
	err := b.updateIndex(ctx, func(ix *index) {
		id = ix.Next
		ix.Next++
		ix.IDs = append(ix.IDs, id)
	})
	return id, err
}

// unlist removes id from the index.
func (b notebook) unlist(ctx context.Context, id int) error {
	return b.updateIndex(ctx, func(ix *index) {
		ix.IDs = slices.DeleteFunc(ix.IDs, func(x int) bool { return x == id })
	})
}

func (b notebook) updateIndex(ctx context.Context, change func(*index)) error {
	for {
		e, err := b.store.GetEntry(ctx, indexKey)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		ix := index{Next: 1}
		if e.Revision != 0 {
			if err := json.Unmarshal(e.Value, &ix); err != nil {
				return fmt.Errorf("the notes index: %w", err)
			}
		}
		change(&ix)
		v, _ := json.Marshal(ix)
		_, err = b.store.PutIf(ctx, indexKey, v, e.Revision)
		if !errors.Is(err, state.ErrConflict) {
			return err
		}
	}
}

// list reads every listed note, ordered by ID. A note listed but not yet
// written (created a moment ago) or deleted a moment ago is left out.
func (b notebook) list(ctx context.Context) ([]note, error) {
	v, err := b.store.Get(ctx, indexKey)
	if errors.Is(err, state.ErrNotFound) {
		return []note{}, nil
	}
	if err != nil {
		return nil, err
	}
	var ix index
	if err := json.Unmarshal(v, &ix); err != nil {
		return nil, fmt.Errorf("the notes index: %w", err)
	}
	slices.Sort(ix.IDs)
	out := make([]note, 0, len(ix.IDs))
	for _, id := range ix.IDs {
		n, ok, err := b.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n.note)
		}
	}
	return out, nil
}
