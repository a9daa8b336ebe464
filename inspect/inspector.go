package inspect

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/actors"
)

// Options are what an Inspector needs besides its Config.
type Options struct {
	// Logger receives a line per request cycle; nil logs nowhere.
	Logger *slog.Logger
	// MeterProvider records the inspector's metrics; nil records none.
	MeterProvider metric.MeterProvider
	// FollowTraces traces every message whose cause OTel samples. Set it
	// when spans are exported; otherwise a client's traceparent could
	// make the inspector trace its every request.
	FollowTraces bool
}

// Inspector records what the actors of a System do, within its bounds:
// it is the System's actors.Observer. Its methods are safe for concurrent
// use. Start runs its housekeeping; Stop ends it.
type Inspector struct {
	cfg      Config
	log      *slog.Logger
	sampler  *sampler
	adaptive *adaptive // nil unless Config.Adaptive.Enabled
	metrics  *instruments
	started  time.Time

	mu       sync.Mutex
	events   *ring
	actors   *table
	cycles   cycleLog
	seq      uint64
	overhead float64 // last measured by the adaptive sampler
	sys      *actors.System
	snap     snapshot
	staging  *staging

	stop    chan struct{}
	done    chan struct{}
	closing chan struct{} // closed by Stop: live consoles end
	once    sync.Once
}

// New returns an Inspector for cfg, which must be valid.
func New(cfg Config, opts Options) *Inspector {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	i := &Inspector{
		cfg:     cfg,
		log:     opts.Logger,
		sampler: newSampler(cfg.Rate(), opts.FollowTraces && cfg.Mode != Off),
		events:  newRing(cfg.MaxEvents),
		actors:  newTable(cfg.MaxActors),
		cycles:  newCycleLog(),
		started: time.Now(),
		closing: make(chan struct{}),
		staging: newStaging(stagingCap(cfg.MaxEvents)),
	}
	if cfg.Adaptive.Enabled && cfg.Mode != Off {
		i.adaptive = &adaptive{cfg: cfg.Adaptive}
	}
	if opts.MeterProvider != nil {
		i.metrics = newInstruments(opts.MeterProvider, i)
	}
	return i
}

// Config returns the Inspector's configuration.
func (i *Inspector) Config() Config { return i.cfg }

// ActorOptions are the options that make a System report to i: none in
// the off mode, so that System pays nothing.
func (i *Inspector) ActorOptions() []actors.Option {
	if i.cfg.Mode == Off {
		return nil
	}
	opts := []actors.Option{actors.WithObserver(i)}
	if i.cfg.DetectCycles {
		opts = append(opts, actors.WithCycleDetection(i.cfg.FailCycles))
	}
	return opts
}

// Watch gives i the System it reports on, for the live actor tree.
func (i *Inspector) Watch(s *actors.System) {
	i.mu.Lock()
	i.sys = s
	i.mu.Unlock()
}

func (i *Inspector) system() *actors.System {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.sys
}

// Sampling implements actors.Observer: the System draws the rate, which
// the adaptive sampler changes, and asks Sample about messages with a
// cause only when OTel traces are followed.
func (i *Inspector) Sampling() *actors.Sampling { return i.sampler.sampling }

// Sample implements actors.Observer: a message the rate did not pick is
// traced when its cause is a trace OTel samples.
func (i *Inspector) Sample(ctx context.Context, _ actors.Ref, _ any) bool {
	return i.sampler.follows(ctx)
}

// Observe implements actors.Observer: it stages the observation for the
// recorder (staging.go), which runs off the actors' goroutines.
func (i *Inspector) Observe(o *actors.Observation) {
	if i.adaptive == nil {
		i.staging.put(o)
		return
	}
	begin := time.Now()
	i.staging.put(o)
	i.adaptive.account(time.Since(begin), 0)
}

// flush records what is staged. Reads call it first, so what they show is
// current; the housekeeping calls it every flushInterval.
func (i *Inspector) flush() {
	i.mu.Lock()
	defer i.mu.Unlock()
	batch := i.staging.take()
	if batch == nil {
		return
	}
	// One clock read for the batch: the actor figures' "now" (their rate
	// windows and least-recently-active order) is when the batch is
	// recorded, at most a flush interval after its messages ended. An
	// event keeps its own end as a stamp, converted when read: converting
	// each was a quarter of recording (BenchmarkRecord).
	begin := time.Now()
	var work time.Duration
	rate := i.sampler.rate()
	for k := range batch {
		o := &batch[k]
		i.record(o, rate, begin)
		if i.adaptive != nil && o.Kind == actors.ObservedMessage {
			work += o.Ended.Sub(o.Started)
		}
	}
	if i.adaptive != nil {
		i.adaptive.account(time.Since(begin), work)
	}
	i.staging.giveBack(batch)
}

// record turns one staged observation into an event and the actor's
// figures, as of now; i.mu is held.
func (i *Inspector) record(o *staged, rate float64, now time.Time) {
	f := factsOf(o)
	name := label(o.Actor)
	st := i.actors.get(o.Actor.ID(), name, o.Actor.Kind(), now)
	keep := true
	switch o.Kind {
	case actors.ObservedMessage:
		st.message(now, f.wait, f.processing, weight(rate), o.Outcome == actors.OutcomeFailed)
		if o.Err != nil {
			st.LastError = f.err
		}
	case actors.ObservedDeadLetter:
		// Every dead letter is counted; untraced ones are kept at the
		// sampling rate, so a storm cannot flush the buffer.
		st.DeadLetters++
		keep = !o.Enqueued.IsZero() || i.sampler.sample(o.sampledTrace)
	case actors.ObservedRestart:
		st.Restarts++
		st.LastError = f.err
	}
	if keep {
		sl := i.push(kindOf(o.Kind))
		if !sl.fill(&o.Observation, name, &f) {
			e := &Event{Seq: sl.seq, Kind: kindOf(o.Kind)}
			fill(e, &o.Observation, name, &f)
			i.events.keepWhole(sl, e)
		}
	}
}

// weight is how many messages one traced message stands for.
func weight(rate float64) float64 {
	if rate <= 0 {
		return 1
	}
	return 1 / rate
}

// push returns the slot of a new event of kind, numbered, to fill in
// place; i.mu is held.
func (i *Inspector) push(kind string) *slot {
	i.seq++
	before := i.events.dropped
	s := i.events.push()
	s.seq = i.seq
	if i.metrics != nil {
		i.metrics.recorded(kind, i.events.dropped-before)
	}
	return s
}

// add keeps e, numbered; i.mu is held, and e must not change afterwards.
func (i *Inspector) add(e *Event) {
	s := i.push(e.Kind)
	e.Seq = s.seq
	if !s.pack(e) {
		i.events.keepWhole(s, e)
	}
}

// facts are what an event needs from an observation that takes a lookup,
// an allocation or a conversion of its stamps.
type facts struct {
	msgType   string
	err       string
	requestID string
	traceID   TraceID
	// wait is the time in the mailbox: until Receive took a message, or
	// until a traced message became a dead letter.
	wait, processing time.Duration
}

func factsOf(o *staged) facts {
	f := facts{}
	if o.typ != nil {
		f.msgType = o.typ.String()
	}
	if o.Err != nil {
		f.err = o.Err.Error()
	}
	f.traceID, f.requestID = o.traceID, o.requestID
	switch {
	case o.Kind == actors.ObservedMessage:
		f.wait, f.processing = o.Started.Sub(o.Enqueued), o.Ended.Sub(o.Started)
	case o.Kind == actors.ObservedDeadLetter && !o.Enqueued.IsZero():
		f.wait = o.Ended.Sub(o.Enqueued)
	case o.Kind == actors.ObservedRestart:
		f.processing = o.Delay
	}
	return f
}

func kindOf(k actors.ObservationKind) string {
	switch k {
	case actors.ObservedDeadLetter:
		return KindDeadLetter
	case actors.ObservedRestart:
		return KindRestart
	}
	return KindMessage
}

// fill writes o into s, which push numbered, and reports whether its
// strings fit; a failure's message never does (see ring).
func (s *slot) fill(o *actors.Observation, name string, f *facts) bool {
	s.ended, s.actorID, s.fromID, s.request = o.Ended, o.Actor.ID(), o.From.ID(), o.Request
	s.stamps = [3]actors.Stamp{o.Enqueued, o.Started, o.Replied} // converted when read
	s.wait, s.processing, s.traceID = f.wait, f.processing, f.traceID
	s.kind = kindIndex(kindOf(o.Kind))
	return f.err == "" && s.packText([5]string{name, label(o.From), f.msgType, o.Outcome, f.requestID})
}

// fill writes o into the event e.
func fill(e *Event, o *actors.Observation, name string, f *facts) {
	e.Time, e.ActorID, e.Actor = o.Ended.Time(), o.Actor.ID(), name
	e.FromID, e.From, e.Request = o.From.ID(), label(o.From), o.Request
	e.stamps = [3]actors.Stamp{o.Enqueued, o.Started, o.Replied} // converted when read
	e.Outcome, e.Wait, e.Processing = o.Outcome, f.wait, f.processing
	e.Message, e.Error, e.RequestID, e.TraceID = f.msgType, f.err, f.requestID, f.traceID
}

// label names an actor: its registered name, else its kind.
func label(r actors.Ref) string {
	if n := r.Name(); n != "" {
		return n
	}
	return r.Kind()
}

// Cycle implements actors.Observer: a detected cycle is an event, a log
// line, a metric and an entry of Cycles; its resolution too.
func (i *Inspector) Cycle(c actors.Cycle) {
	e := Event{
		Kind: KindCycle, Time: c.Detected, Detail: c.String(),
		ActorID: c.Hops[0].From.ID(), Actor: label(c.Hops[0].From), Message: c.Hops[len(c.Hops)-1].Message,
	}
	resolved := !c.Resolved.IsZero()
	if resolved {
		e.Kind, e.Time, e.Outcome = KindCycleResolved, c.Resolved, c.Resolution
	}
	i.mu.Lock()
	i.add(&e)
	i.cycles.record(c)
	i.mu.Unlock()
	if resolved {
		i.log.Info("request cycle resolved", "cycle", c.ID, "actors", e.Detail, "resolution", c.Resolution,
			"after", c.Resolved.Sub(c.Detected))
		return
	}
	if i.metrics != nil {
		i.metrics.cycle()
	}
	i.log.Warn("request cycle detected", "cycle", c.ID, "actors", e.Detail, "hops", hopAttrs(c))
}

// hopAttrs describes each wait of c for the log: who waits on whom, for
// what, since how long.
func hopAttrs(c actors.Cycle) []string {
	out := make([]string, len(c.Hops))
	for k, h := range c.Hops {
		out[k] = h.From.String() + " waits on " + h.To.String() + " for " + h.Message + " since " +
			c.Detected.Sub(h.Since).Round(time.Microsecond).String()
	}
	return out
}
