package state

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
)

func TestMemoryStore(t *testing.T) { testStore(t, NewMemory(0)) }

func TestMemoryFullNeverEvicts(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(2)
	for _, k := range []string{"a", "b"} {
		if err := m.Put(ctx, k, []byte(k)); err != nil {
			t.Fatalf("Put(%s): %v", k, err)
		}
	}
	if err := m.Put(ctx, "c", []byte("c")); !errors.Is(err, ErrFull) {
		t.Fatalf("Put(c) into a full store = %v, want ErrFull", err)
	}
	if err := m.Put(ctx, "a", []byte("a2")); err != nil {
		t.Fatalf("replacing a key in a full store = %v, want nil", err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := m.Get(ctx, k); err != nil {
			t.Errorf("Get(%s) after refusal: %v (a key was evicted)", k, err)
		}
	}
	if err := m.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, "c", []byte("c")); err != nil {
		t.Fatalf("Put(c) after a Delete freed room = %v", err)
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d, want 2", m.Len())
	}
}

func TestMemoryGetReturnsCopy(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(0)
	_ = m.Put(ctx, "k", []byte("abc"))
	v, _ := m.Get(ctx, "k")
	v[0] = 'X'
	if again, _ := m.Get(ctx, "k"); string(again) != "abc" {
		t.Fatalf("stored value changed to %q through a Get result", again)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := strconv.Itoa(i % 20)
				switch (g + i) % 3 {
				case 0:
					_ = m.Put(ctx, k, []byte(k))
				case 1:
					if v, err := m.Get(ctx, k); err == nil && string(v) != k {
						t.Errorf("Get(%s) = %q", k, v)
					}
				default:
					_ = m.Delete(ctx, k)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMemoryGet(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(0)
	for i := range 1024 {
		_ = m.Put(ctx, "component/ns/"+strconv.Itoa(i), make([]byte, 64))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Get(ctx, "component/ns/"+strconv.Itoa(i&1023)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkMemoryPut(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(0)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "component/ns/" + strconv.Itoa(i)
	}
	v := make([]byte, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := m.Put(ctx, keys[i&1023], v); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
