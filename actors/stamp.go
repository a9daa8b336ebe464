package actors

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stamp is a moment of an Observation, on the observation clock: taking
// one is a single read of the processor's time-stamp counter where the
// kernel keeps its own clock on it (Linux on amd64 with the "tsc" clock
// source), else of the monotonic clock. It becomes a time or a duration
// only when read — on the inspector's recorder, off the actors'
// goroutines. The zero Stamp is "did not happen".
//
// Why not time.Time: a traced message takes four of them. On a KVM guest
// (AMD EPYC) a counter read costs 10 ns, the monotonic clock 24 ns and
// time.Now 49 ns; the four time.Time stamps cost a development-mode round
// trip 185 of its 290 ns of tracing (BenchmarkRequestModes). See
// docs/benchmarks.md#inspector.
type Stamp int64

// IsZero reports whether s is the zero Stamp.
func (s Stamp) IsZero() bool { return s == 0 }

// Sub returns the duration s−u.
func (s Stamp) Sub(u Stamp) time.Duration { return obsClock.sub(s, u) }

// Time returns s as a time, with a monotonic reading; the zero time for
// the zero Stamp. It drifts from the wall clock only by what NTP corrects
// after start-up.
func (s Stamp) Time() time.Time { return obsClock.time(s) }

// epoch anchors the observation clock.
var epoch = time.Now()

// obsClock is the process's observation clock, set up by the first
// System with an Observer (startClock): a System without one never reads
// the counter nor pays for its calibration.
var obsClock clock

// clock takes stamps and turns them into times.
type clock struct {
	once sync.Once
	// tsc is set once, before any stamp is taken: stamps are counter
	// readings, else nanoseconds since epoch plus one (so none is zero).
	tsc    bool
	mu     sync.Mutex // serialises recalibrations
	origin counterPair
	cal    atomic.Pointer[calibration]
}

// stamp takes a Stamp.
func stamp() Stamp { return obsClock.stamp() }

func (k *clock) stamp() Stamp {
	if k.tsc {
		return Stamp(readCounter())
	}
	return Stamp(time.Since(epoch) + 1)
}

func (k *clock) sub(s, u Stamp) time.Duration {
	return k.calibrated(max(s, u)).duration(int64(s) - int64(u))
}

func (k *clock) time(s Stamp) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return epoch.Add(k.sinceEpoch(k.calibrated(s), s))
}

// startClock sets the observation clock up, once per process.
func startClock() { obsClock.once.Do(func() { obsClock.start(counterUsable()) }) }

// counterPair is a counter reading and the monotonic time it was read at.
type counterPair struct{ ticks, nanos int64 }

// calibration converts counter readings: nanosPerTick measured from the
// origin to a later pair, good until the counter reads past next.
type calibration struct {
	nanosPerTick float64
	next         int64
}

// calibrationSpan is how long the first calibration measures the counter
// against the monotonic clock: pairs read within ~50 ns of each other
// make its rate exact to 5·10⁻⁵, and later calibrations, each over twice
// the time, refine it (recalibrate).
const calibrationSpan = time.Millisecond

// maxCalibrationInterval is the longest a calibration is kept.
const maxCalibrationInterval = time.Second

func (k *clock) start(tsc bool) {
	if tsc {
		k.origin = readPair()
		time.Sleep(calibrationSpan)
		// A counter that did not advance cannot time anything.
		tsc = readCounter() > k.origin.ticks
	}
	k.tsc = tsc
	if !tsc {
		k.cal.Store(&calibration{nanosPerTick: 1, next: 1<<63 - 1})
		return
	}
	k.recalibrate()
}

// calibrated returns the calibration to convert s with, renewing it once s
// is past it.
func (k *clock) calibrated(s Stamp) *calibration {
	c := k.cal.Load()
	if c == nil {
		// No System with an Observer yet: every Stamp is zero.
		return &calibration{nanosPerTick: 1}
	}
	if int64(s) > c.next {
		c = k.recalibrate()
	}
	return c
}

// recalibrate measures the counter's rate from the origin to now and
// keeps it for twice as long as it measured, at most a second. Measuring
// from the origin keeps the error of a converted time within that of one
// pair (tens of nanoseconds) however long the process runs.
func (k *clock) recalibrate() *calibration {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := readPair()
	if c := k.cal.Load(); c != nil && p.ticks <= c.next {
		return c // another conversion renewed it meanwhile
	}
	span := p.ticks - k.origin.ticks
	c := &calibration{nanosPerTick: float64(p.nanos-k.origin.nanos) / float64(span)}
	c.next = p.ticks + min(span, int64(float64(maxCalibrationInterval)/c.nanosPerTick))
	k.cal.Store(c)
	return c
}

// readPair reads the counter and the monotonic clock together: of five
// tries, the one whose clock reads around the counter read lie closest.
func readPair() counterPair {
	var best counterPair
	window := int64(1<<63 - 1)
	for range 5 {
		before := int64(time.Since(epoch))
		ticks := readCounter()
		after := int64(time.Since(epoch))
		if after-before < window {
			window, best = after-before, counterPair{ticks: ticks, nanos: before + (after-before)/2}
		}
	}
	return best
}

// duration converts a difference of stamps.
func (c *calibration) duration(d int64) time.Duration {
	return time.Duration(float64(d) * c.nanosPerTick)
}

// sinceEpoch converts a stamp into the monotonic time since epoch, with c.
func (k *clock) sinceEpoch(c *calibration, s Stamp) time.Duration {
	if !k.tsc {
		return time.Duration(s - 1)
	}
	return time.Duration(k.origin.nanos) + c.duration(int64(s)-k.origin.ticks)
}
