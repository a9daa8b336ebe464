package main

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/troupehq/troupe/actors/state"
)

// TestNotebookAllocatesUniqueIDs: writers racing for IDs — the notes
// actors of several nodes — each get a different one, and the index
// lists every one: the read-modify-write retries on state.ErrConflict.
func TestNotebookAllocatesUniqueIDs(t *testing.T) {
	book := notebook{store: state.NewMemory(0)}
	ctx := context.Background()
	if err := book.seed(ctx, 3); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	ids := make(chan int, writers*each)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				id, err := book.allocate(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int]bool{}
	for id := range ids {
		if seen[id] || id <= 3 {
			t.Fatalf("ID %d handed out twice, or a seeded one", id)
		}
		seen[id] = true
	}
	var ix index
	v, err := book.store.Get(ctx, indexKey)
	if err == nil {
		err = json.Unmarshal(v, &ix)
	}
	if err != nil || len(ix.IDs) != 3+writers*each || ix.Next != 4+writers*each {
		t.Fatalf("index after %d allocations: %d IDs, next %d, %v", writers*each, len(ix.IDs), ix.Next, err)
	}
}

// TestNotebookSeedsOnce: a store that has an index keeps its notes; a
// second seed, by another node or a restart, writes nothing.
func TestNotebookSeedsOnce(t *testing.T) {
	book := notebook{store: state.NewMemory(0)}
	ctx := context.Background()
	if err := book.seed(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := book.remove(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := book.seed(ctx, 2); err != nil {
		t.Fatal(err)
	}
	notes, err := book.list(ctx)
	if err != nil || len(notes) != 1 || notes[0].ID != 2 {
		t.Fatalf("after a second seed: %v %v, want note 2 alone", notes, err)
	}
}
