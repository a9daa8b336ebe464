package state

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// testStore checks the Store contract every implementation shares.
func testStore(t *testing.T, s Store) {
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
}
