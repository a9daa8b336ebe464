package actors

import (
	"testing"
	"time"
)

// clocks are the observation clocks this machine can run: the monotonic
// one always, the counter where the kernel's clock source is the TSC.
func clocks(t *testing.T) map[string]*clock {
	t.Helper()
	out := map[string]*clock{"monotonic": new(clock)}
	out["monotonic"].start(false)
	if counterUsable() {
		out["counter"] = new(clock)
		out["counter"].start(true)
	} else {
		t.Log("the kernel's clock source is not the TSC: only the monotonic clock is tested")
	}
	return out
}

// TestStampClock checks that stamps convert to the times and durations
// the monotonic clock measured around them, with either source.
func TestStampClock(t *testing.T) {
	for name, k := range clocks(t) {
		t.Run(name, func(t *testing.T) {
			const sleep = 20 * time.Millisecond
			before := time.Now()
			s0 := k.stamp()
			time.Sleep(sleep)
			s1 := k.stamp()
			after := time.Now()
			if s0.IsZero() || s1 <= s0 {
				t.Fatalf("stamps %d then %d", s0, s1)
			}
			// Calibrated to 5·10⁻⁵ at worst: a margin of 10⁻³ is ample.
			d := k.sub(s1, s0)
			if d < sleep*999/1000 || d > after.Sub(before)*1001/1000 {
				t.Errorf("stamps %v apart around a %v sleep that took %v", d, sleep, after.Sub(before))
			}
			t0, t1 := k.time(s0), k.time(s1)
			if t0.Before(before.Add(-time.Millisecond)) || t1.After(after.Add(time.Millisecond)) ||
				(t1.Sub(t0)-d).Abs() > 5*time.Microsecond {
				t.Errorf("times %v, %v; read between %v and %v", t0, t1, before, after)
			}
			if !k.time(0).IsZero() {
				t.Errorf("the zero stamp is %v", k.time(0))
			}
		})
	}
}

// TestStampRecalibration checks that renewing the counter's calibration
// barely moves a converted time: stamps converted late, on the recorder,
// keep their order and their distances.
func TestStampRecalibration(t *testing.T) {
	if !counterUsable() {
		t.Skip("the kernel's clock source is not the TSC")
	}
	k := new(clock)
	k.start(true)
	s := k.stamp()
	first := k.time(s)
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		k.cal.Load().next = 0
		k.time(k.stamp()) // past next: renews the calibration
		if k.cal.Load().next == 0 {
			t.Fatal("the calibration was not renewed")
		}
		// Within one pair's reading error (tens of ns); 5 µs leaves room
		// for a preempted pair on a loaded machine.
		if got := k.time(s); got.Sub(first).Abs() > 5*time.Microsecond {
			t.Errorf("a stamp converted to %v, then %v after a recalibration", first, got)
		}
	}
}

var stampSink Stamp

// BenchmarkStamp is the cost of one stamp, against time.Now's.
func BenchmarkStamp(b *testing.B) {
	startClock()
	b.Run("stamp", func(b *testing.B) {
		for b.Loop() {
			stampSink += stamp()
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for b.Loop() {
			stampSink += Stamp(time.Now().UnixNano())
		}
	})
}
