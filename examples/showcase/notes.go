package main

import (
	"fmt"
	"sort"
	"time"

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
	// ownerEntity is the Cedar entity type of the owner: User or Client.
	ownerEntity string
}

// noteStore keeps notes in memory. It is owned by the notes actor, which
// handles one message at a time, so it needs no lock.
type noteStore struct {
	notes  map[int]note
	nextID int
}

// newNoteStore returns a store seeded with n notes, so the API has something
// to list on first start.
func newNoteStore(n int) *noteStore {
	s := &noteStore{notes: make(map[int]note, n), nextID: 1}
	seeded := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		s.add(fmt.Sprintf("Note %d", i), fmt.Sprintf("This is seeded note number %d.", i), seeded.Add(time.Duration(i)*time.Minute), nil)
	}
	return s
}

func (s *noteStore) add(title, body string, at time.Time, owner *authz.Principal) note {
	n := note{ID: s.nextID, Title: title, Body: body, CreatedAt: at.UTC()}
	if owner != nil {
		n.Owner, n.ownerEntity = owner.Subject, string(authz.PrincipalUID(owner).Type)
	}
	s.notes[n.ID] = n
	s.nextID++
	return n
}

func (s *noteStore) get(id int) (note, bool) {
	n, ok := s.notes[id]
	return n, ok
}

func (s *noteStore) delete(id int) bool {
	_, ok := s.notes[id]
	delete(s.notes, id)
	return ok
}

// list returns every note ordered by ID.
func (s *noteStore) list() []note {
	out := make([]note, 0, len(s.notes))
	for _, n := range s.notes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
