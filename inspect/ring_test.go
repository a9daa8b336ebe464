package inspect

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRingBounds(t *testing.T) {
	r := newRing(100)
	base := time.Now()
	for i := range 1000 {
		r.add(Event{Seq: uint64(i + 1), Time: base.Add(time.Duration(i)), RequestID: strings.Repeat("x", 10)})
		if r.n > 100 || len(r.buf) > 100 || cap(r.buf) > 100 {
			t.Fatalf("after %d events: %d held in a buffer of %d", i+1, r.n, cap(r.buf))
		}
	}
	var seqs []uint64
	r.each(func(e *Event) bool { seqs = append(seqs, e.Seq); return true })
	if len(seqs) != 100 || seqs[0] != 901 || seqs[99] != 1000 {
		t.Fatalf("kept %d events, %v…%v; want the newest 100 in order", len(seqs), seqs[0], seqs[len(seqs)-1])
	}
	if r.dropped != 900 {
		t.Errorf("dropped = %d, want 900", r.dropped)
	}
	if want := 100*eventSize + 100*10; r.bytes() != want {
		t.Errorf("bytes = %d, want %d", r.bytes(), want)
	}
	// Retention removes the oldest; adding after that reuses the slots.
	r.expire(base.Add(950))
	if r.n != 50 || r.expired != 50 {
		t.Errorf("after expiry: %d held, %d expired", r.n, r.expired)
	}
	r.add(Event{Seq: 1001, Time: base.Add(1001)})
	seqs = seqs[:0]
	r.each(func(e *Event) bool { seqs = append(seqs, e.Seq); return true })
	if len(seqs) != 51 || seqs[0] != 951 || seqs[50] != 1001 || cap(r.buf) != 100 {
		t.Errorf("after expiry and add: %d events from %d to %d, buffer %d", len(seqs), seqs[0], seqs[len(seqs)-1], cap(r.buf))
	}
	if r.strings != 50*10 {
		t.Errorf("string bytes %d, want 500", r.strings)
	}
}

func TestTableBounds(t *testing.T) {
	tb := newTable(10)
	now := time.Now()
	for i := range 100 {
		s := tb.get(uint64(i+1), "a"+strconv.Itoa(i), "kind", now.Add(time.Duration(i)))
		s.message(now, time.Microsecond, time.Millisecond, 1, false)
		if len(tb.byID) > 10 || tb.lru.Len() > 10 {
			t.Fatalf("table holds %d actors", len(tb.byID))
		}
	}
	if tb.evicted != 90 || tb.byID[100] == nil || tb.byID[90] != nil {
		t.Errorf("evicted %d; the newest 10 should remain", tb.evicted)
	}
	tb.expire(now.Add(95))
	if len(tb.byID) != 5 {
		t.Errorf("after expiry %d actors, want 5", len(tb.byID))
	}
}

func TestActorFigures(t *testing.T) {
	tb := newTable(10)
	now := time.Now()
	s := tb.get(1, "a", "k", now)
	for i := range 1000 {
		d := 100 * time.Microsecond
		if i >= 990 {
			d = 50 * time.Millisecond // the slowest 1%
		}
		s.message(now, time.Millisecond, d, 10, i == 0)
	}
	f := s.figures(now.Add(time.Second))
	if f.Messages != 10_000 || f.Traced != 1000 || f.Failures != 1 || f.MeanWait != time.Millisecond {
		t.Errorf("figures %+v", f)
	}
	// The 99th percentile is the fastest of the slow ones' bucket's bound.
	if f.P99 < 100*time.Microsecond || f.P99 > 142*time.Microsecond {
		t.Errorf("p99 = %v, want about 100µs", f.P99)
	}
	if f.Rate != 10_000 {
		t.Errorf("rate = %v, want 10000/s", f.Rate)
	}
}
