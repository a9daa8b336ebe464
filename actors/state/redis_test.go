package state

import (
	"context"
	"errors"
	"testing"

	"github.com/troupehq/troupe/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	testStore(t, NewRedis(srv.Client(t), "test:"))
}

func TestRedisPrefix(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client(t)
	ctx := context.Background()
	a, b := NewRedis(client, "svc-a:"), NewRedis(client, "svc-b:")
	if err := a.Put(ctx, "k", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	if raw, err := client.HGet(ctx, "svc-a:k", "v").Result(); err != nil || raw != "from a" {
		t.Fatalf("raw hash svc-a:k field v = %q, %v; want the prefixed value", raw, err)
	}
	e, err := a.GetEntry(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if counter, err := client.Get(ctx, "svc-a:").Uint64(); err != nil || counter != e.Revision {
		t.Fatalf("counter svc-a: = %d, %v; want the last revision %d", counter, err, e.Revision)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another prefix sees the key: %v", err)
	}
}

func TestRedisDownIsAnErrorNotMissing(t *testing.T) {
	srv := redistest.Start(t)
	s := NewRedis(srv.Client(t), "test:")
	srv.Kill()
	ctx := context.Background()
	if _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get with Redis down = %v, want a Redis error", err)
	}
	if err := s.Put(ctx, "k", []byte("v")); err == nil {
		t.Fatal("Put with Redis down succeeded")
	}
	if err := s.Delete(ctx, "k"); err == nil {
		t.Fatal("Delete with Redis down succeeded")
	}
}
