package state

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// testStore checks the Store contract every implementation shares.
func testStore(t *testing.T, s Store) {
	t.Helper()
	testStoreValues(t, s)
	testStoreRevisions(t, s)
	testStoreRace(t, s, 8)
}

// testStoreValues checks Get, Put and Delete.
func testStoreValues(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	val := []byte("v1")
	if err := s.Put(ctx, "k", val); err != nil {
		t.Fatalf("Put: %v", err)
	}
	val[0] = 'X' // the store must have kept its own copy
	got, err := s.Get(ctx, "k")
	if err != nil || string(got) != "v1" {
		t.Fatalf("Get(k) = %q, %v; want v1", got, err)
	}
	if err := s.Put(ctx, "k", []byte("v2")); err != nil {
		t.Fatalf("Put (replace): %v", err)
	}
	if got, _ := s.Get(ctx, "k"); string(got) != "v2" {
		t.Fatalf("Get after replace = %q, want v2", got)
	}
	if err := s.Put(ctx, "empty", nil); err != nil {
		t.Fatalf("Put(empty): %v", err)
	}
	if got, err := s.Get(ctx, "empty"); err != nil || len(got) != 0 {
		t.Fatalf("Get(empty) = %q, %v; want an empty value", got, err)
	}
	bin := []byte{0, 1, 0xff, '/', 0}
	if err := s.Put(ctx, "a/b\x00c", bin); err != nil {
		t.Fatalf("Put(binary): %v", err)
	}
	if got, _ := s.Get(ctx, "a/b\x00c"); !bytes.Equal(got, bin) {
		t.Fatalf("Get(binary) = %v, want %v", got, bin)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cancelled, "late", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.PutIf(cancelled, "late", []byte("x"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutIf with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.GetEntry(cancelled, "late"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetEntry with a cancelled context = %v, want context.Canceled", err)
	}
}

// testStoreRevisions checks the optimistic-concurrency half of the
// contract: revisions, PutIf and ErrConflict.
func testStoreRevisions(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if e, err := s.GetEntry(ctx, "rev"); !errors.Is(err, ErrNotFound) || e.Revision != 0 || e.Value != nil {
		t.Fatalf("GetEntry(missing) = %+v, %v; want a zero Entry and ErrNotFound", e, err)
	}
	if _, err := s.PutIf(ctx, "rev", []byte("x"), 7); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf(missing, 7) = %v, want ErrConflict", err)
	}
	r1, err := s.PutIf(ctx, "rev", []byte("v1"), 0)
	if err != nil || r1 == 0 {
		t.Fatalf("PutIf(absent, 0) = %d, %v; want a revision", r1, err)
	}
	if _, err := s.PutIf(ctx, "rev", []byte("again"), 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf(existing, 0) = %v, want ErrConflict", err)
	}
	if e, err := s.GetEntry(ctx, "rev"); err != nil || string(e.Value) != "v1" || e.Revision != r1 {
		t.Fatalf("GetEntry = %q rev %d, %v; want v1 rev %d", e.Value, e.Revision, err, r1)
	}
	r2, err := s.PutIf(ctx, "rev", []byte("v2"), r1)
	if err != nil || r2 <= r1 {
		t.Fatalf("PutIf(rev, %d) = %d, %v; want a later revision", r1, r2, err)
	}
	if _, err := s.PutIf(ctx, "rev", []byte("stale"), r1); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf with a stale revision = %v, want ErrConflict", err)
	}
	if err := s.Put(ctx, "rev", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	e, err := s.GetEntry(ctx, "rev")
	if err != nil || string(e.Value) != "v3" || e.Revision <= r2 {
		t.Fatalf("after Put: %q rev %d, %v; want v3 with a revision after %d", e.Value, e.Revision, err, r2)
	}
	if _, err := s.PutIf(ctx, "rev", []byte("stale"), r2); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf with the revision before a Put = %v, want ErrConflict", err)
	}
	if _, err := s.PutIf(ctx, "other", []byte("x"), e.Revision); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf(other key, this key's revision) = %v, want ErrConflict", err)
	}
	// A key deleted and created again never gets back an old revision, so
	// a writer that read before the Delete conflicts (no ABA).
	if err := s.Delete(ctx, "rev"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIf(ctx, "rev", []byte("stale"), e.Revision); !errors.Is(err, ErrConflict) {
		t.Fatalf("PutIf(deleted key, its last revision) = %v, want ErrConflict", err)
	}
	r4, err := s.PutIf(ctx, "rev", []byte("v4"), 0)
	if err != nil || r4 <= e.Revision {
		t.Fatalf("PutIf(deleted, 0) = %d, %v; want a revision after %d", r4, err, e.Revision)
	}
	for _, rev := range []uint64{r1, r2, e.Revision} {
		if _, err := s.PutIf(ctx, "rev", []byte("stale"), rev); !errors.Is(err, ErrConflict) {
			t.Fatalf("PutIf(recreated key, old revision %d) = %v, want ErrConflict", rev, err)
		}
	}
	testStoreInvalidKeys(t, s)
}

// testStoreInvalidKeys checks that every method refuses the empty key.
func testStoreInvalidKeys(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	_, getErr := s.Get(ctx, "")
	_, entryErr := s.GetEntry(ctx, "")
	_, putIfErr := s.PutIf(ctx, "", nil, 0)
	for name, err := range map[string]error{
		"Get": getErr, "GetEntry": entryErr, "Put": s.Put(ctx, "", nil),
		"PutIf": putIfErr, "Delete": s.Delete(ctx, ""),
	} {
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s(\"\") = %v, want ErrInvalidKey", name, err)
		}
	}
}

// testStoreRace runs writers that race with PutIf: of the writers holding
// one revision exactly one wins each round, and increments made by
// read-modify-write loops are never lost.
func testStoreRace(t *testing.T, s Store, writers int) {
	t.Helper()
	ctx := context.Background()
	for round := range 5 {
		key := "race/" + strconv.Itoa(round)
		var base uint64
		if round%2 == 1 { // odd rounds race on an existing key
			var err error
			if base, err = s.PutIf(ctx, key, []byte("base"), 0); err != nil {
				t.Fatal(err)
			}
		}
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				_, err := s.PutIf(ctx, key, []byte(strconv.Itoa(w)), base)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("PutIf: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != int32(writers-1) {
			t.Fatalf("round %d: %d writers with revision %d: %d won, %d conflicted; want exactly one winner", round, writers, base, wins.Load(), conflicts.Load())
		}
	}
	testStoreCounter(t, s, writers)
}

// testStoreCounter has writers increment one counter with
// read-modify-write loops retried on ErrConflict: no increment is lost.
func testStoreCounter(t *testing.T, s Store, writers int) {
	t.Helper()
	ctx := context.Background()
	const perWriter = 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range perWriter {
				for {
					e, err := s.GetEntry(ctx, "race/counter")
					if err != nil && !errors.Is(err, ErrNotFound) {
						t.Errorf("GetEntry: %v", err)
						return
					}
					n, _ := strconv.Atoi(string(e.Value))
					_, err = s.PutIf(ctx, "race/counter", []byte(strconv.Itoa(n+1)), e.Revision)
					if err == nil {
						break
					}
					if !errors.Is(err, ErrConflict) {
						t.Errorf("PutIf: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Get(ctx, "race/counter")
	if want := strconv.Itoa(writers * perWriter); err != nil || string(got) != want {
		t.Fatalf("counter = %q, %v; want %s (an increment was lost)", got, err, want)
	}
}
