package inspect

import (
	"math"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRingBounds(t *testing.T) {
	r := newRing(100)
	base := time.Now()
	for i := range 1000 {
		r.add(&Event{Seq: uint64(i + 1), Time: base.Add(time.Duration(i)), RequestID: strings.Repeat("x", 10)})
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
	if want := 100 * slotSize; r.bytes() != want {
		t.Errorf("bytes = %d, want %d", r.bytes(), want)
	}
	// Retention removes the oldest; adding after that reuses the slots.
	r.expire(base.Add(950))
	if r.n != 50 || r.expired != 50 {
		t.Errorf("after expiry: %d held, %d expired", r.n, r.expired)
	}
	r.add(&Event{Seq: 1001, Time: base.Add(1001)})
	seqs = seqs[:0]
	r.each(func(e *Event) bool { seqs = append(seqs, e.Seq); return true })
	if len(seqs) != 51 || seqs[0] != 951 || seqs[50] != 1001 || cap(r.buf) != 100 {
		t.Errorf("after expiry and add: %d events from %d to %d, buffer %d", len(seqs), seqs[0], seqs[len(seqs)-1], cap(r.buf))
	}
}

// TestRingSpills: an event whose strings do not fit its slot — a
// failure's message, a long name — is kept whole, read back whole, counted,
// and let go with its slot.
func TestRingSpills(t *testing.T) {
	r := newRing(4)
	base := time.Now()
	long := strings.Repeat("n", textCap+1)
	in := []Event{
		{Seq: 1, Kind: KindMessage, Actor: "a", Message: "*actors.HTTPRequest", Outcome: "replied", RequestID: "01JD3", Request: true, Wait: 5, Processing: 7},
		{Seq: 2, Kind: KindMessage, Actor: "a", Outcome: "failed", Error: "boom"},
		{Seq: 3, Kind: KindRestart, Actor: long},
		{Seq: 4, Kind: KindCycle, Actor: "a", Detail: "a#1 → b#2 → a#1"},
	}
	for k := range in {
		in[k].Time = time.Unix(0, base.Add(time.Duration(k)).UnixNano()) // as a slot keeps it
		e := in[k]
		r.add(&e)
	}
	var out []Event
	r.each(func(e *Event) bool { out = append(out, *e); return true })
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("read back\n%+v\nwant\n%+v", out, in)
	}
	if len(r.spill) != 3 || r.strings != 3*eventSize+len("boom")+len(in[3].Detail) {
		t.Errorf("%d spilled, %d bytes counted", len(r.spill), r.strings)
	}
	for k := range 4 {
		r.add(&Event{Seq: uint64(5 + k), Kind: KindMessage, Time: base.Add(time.Duration(5 + k))})
	}
	if len(r.spill) != 0 || r.strings != 0 || r.bytes() != 4*slotSize {
		t.Errorf("after the spilled events were replaced: %d spilled, %d bytes", len(r.spill), r.bytes())
	}
}

// TestSlotHoldsNoPointer: the ring's buffer is never scanned by the
// garbage collector only while a slot holds no pointer.
func TestSlotHoldsNoPointer(t *testing.T) {
	var check func(reflect.Type, string)
	check = func(ty reflect.Type, path string) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			t.Errorf("%s is a %s: the ring's buffer would be scanned", path, ty.Kind())
		case reflect.Struct:
			for f := range ty.Fields() {
				check(f.Type, path+"."+f.Name)
			}
		case reflect.Array:
			check(ty.Elem(), path+"[]")
		}
	}
	check(reflect.TypeFor[slot](), "slot")
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

// BenchmarkRingGC is a full garbage collection with 10,000 events held:
// as the ring keeps them (slots), and as []Event, what it kept before —
// each with its own request ID string. The difference is what the
// collector's marking of the ring costs every cycle.
func BenchmarkRingGC(b *testing.B) {
	const n = 10_000
	events := func() []Event {
		out := make([]Event, n)
		for k := range out {
			out[k] = Event{
				Seq: uint64(k + 1), Kind: KindMessage, Time: time.Now(), Actor: "echo", Message: "*actors.HTTPRequest",
				Outcome: "replied", RequestID: strconv.Itoa(1e12 + k), Request: true,
			}
		}
		return out
	}
	b.Run("slots", func(b *testing.B) {
		r := newRing(n)
		for _, e := range events() {
			r.add(&e)
		}
		for b.Loop() {
			runtime.GC()
		}
		runtime.KeepAlive(r)
	})
	b.Run("events", func(b *testing.B) {
		held := events()
		for b.Loop() {
			runtime.GC()
		}
		runtime.KeepAlive(held)
	})
	b.Run("none", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
		}
	})
}

// TestBucketExact: the integer bucket agrees with ⌈2·log₂(µs)⌉ computed
// in floats, across the range, at the buckets' bounds and beside them.
func TestBucketExact(t *testing.T) {
	float := func(d time.Duration) int {
		us := float64(d) / float64(time.Microsecond)
		if us <= 1 {
			return 0
		}
		return min(histBuckets-1, int(math.Ceil(2*math.Log2(us))))
	}
	check := func(d time.Duration) {
		if got, want := bucket(d), float(d); got != want {
			t.Fatalf("bucket(%v) = %d, want %d", d, got, want)
		}
	}
	for d := time.Duration(0); d < 5*time.Second; d += d/997 + 1 {
		check(d)
	}
	for i := range histBuckets {
		b := bucketBound(i)
		for _, d := range []time.Duration{b - 1, b, b + 1} {
			check(d)
		}
	}
	check(time.Hour)
}
