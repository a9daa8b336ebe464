package main

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// note is one note of the showcase's notes API.
type note struct {
	ID        int       `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// noteStore keeps notes in memory. It is safe for concurrent use.
type noteStore struct {
	mu     sync.RWMutex
	notes  map[int]note
	nextID int
}

// newNoteStore returns a store seeded with n notes, so the API has something
// to list on first start.
func newNoteStore(n int) *noteStore {
	s := &noteStore{notes: make(map[int]note, n), nextID: 1}
	seeded := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		s.add(fmt.Sprintf("Note %d", i), fmt.Sprintf("This is seeded note number %d.", i), seeded.Add(time.Duration(i)*time.Minute))
	}
	return s
}

func (s *noteStore) add(title, body string, at time.Time) note {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := note{ID: s.nextID, Title: title, Body: body, CreatedAt: at.UTC()}
	s.notes[n.ID] = n
	s.nextID++
	return n
}

func (s *noteStore) get(id int) (note, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.notes[id]
	return n, ok
}

func (s *noteStore) delete(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.notes[id]
	delete(s.notes, id)
	return ok
}

// list returns every note ordered by ID.
func (s *noteStore) list() []note {
	s.mu.RLock()
	out := make([]note, 0, len(s.notes))
	for _, n := range s.notes {
		out = append(out, n)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
