package resilience

import (
	"errors"
	"testing"
	"time"
)

// TestBucket checks that a Bucket admits a burst, then the steady rate, and
// decides exactly as the MemoryStore does for one key.
func TestBucket(t *testing.T) {
	l := Limit{Rate: 2, Period: time.Second, Burst: 4} // interval 500ms
	var b Bucket
	allowed := 0
	for range 10 {
		res, err := b.Allow(0, l, 1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			allowed++
		}
	}
	if allowed != 4 {
		t.Fatalf("burst admitted %d, want 4", allowed)
	}
	if res, _ := b.Allow(400*time.Millisecond, l, 1); res.Allowed {
		t.Fatal("allowed before one interval passed")
	}
	res, _ := b.Allow(500*time.Millisecond, l, 1)
	if !res.Allowed {
		t.Fatalf("refused one interval after the burst: %+v", res)
	}

	// Same decisions as the store on the same clock.
	var clock int64
	s := NewMemoryStore(0)
	s.clock = func() int64 { return clock }
	var fresh Bucket
	for i := range 40 {
		clock = int64(i) * int64(130*time.Millisecond)
		want, _ := s.Allow(t.Context(), "k", l, 1)
		got, _ := fresh.Allow(time.Duration(clock), l, 1)
		if got != want {
			t.Fatalf("step %d: bucket %+v, store %+v", i, got, want)
		}
	}
}

func TestBucketInvalid(t *testing.T) {
	var b Bucket
	if _, err := b.Allow(0, Limit{}, 1); err == nil {
		t.Error("zero limit accepted")
	}
	if _, err := b.Allow(0, PerSecond(3), 4); !errors.Is(err, ErrCost) {
		t.Errorf("cost over the burst: %v, want ErrCost", err)
	}
}
