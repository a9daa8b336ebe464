package ratelog

import (
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(10 * time.Second)
	t0 := time.Unix(1000, 0)
	if ok, n := l.Allow(t0); !ok || n != 0 {
		t.Fatalf("first Allow = %v, %d", ok, n)
	}
	for i := range 3 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i+1) * time.Second)); ok {
			t.Fatalf("Allow within the interval succeeded")
		}
	}
	if ok, n := l.Allow(t0.Add(10 * time.Second)); !ok || n != 3 {
		t.Errorf("Allow after the interval = %v, %d; want true, 3 held back", ok, n)
	}
	l.Allow(t0.Add(11 * time.Second))
	if n := l.Logged(t0.Add(12 * time.Second)); n != 1 {
		t.Errorf("Logged = %d, want the 1 held back", n)
	}
	if ok, _ := l.Allow(t0.Add(15 * time.Second)); ok {
		t.Error("Allow right after Logged succeeded")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := New(time.Hour)
	var wg sync.WaitGroup
	allowed := make(chan bool, 100)
	now := time.Now()
	for range 100 {
		wg.Go(func() {
			ok, _ := l.Allow(now)
			allowed <- ok
		})
	}
	wg.Wait()
	close(allowed)
	n := 0
	for ok := range allowed {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 100 concurrent lines allowed, want 1", n)
	}
}
