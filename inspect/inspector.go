package inspect

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/reqinfo"
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

// Sample implements actors.Observer.
func (i *Inspector) Sample(ctx context.Context, _ actors.Ref, _ any) bool {
	return i.sampler.sample(ctx)
}

// Observe implements actors.Observer: it records the event and updates
// the actor's figures.
func (i *Inspector) Observe(o *actors.Observation) {
	var begin time.Time
	if i.adaptive != nil {
		begin = time.Now()
	}
	e := i.event(o)
	traced := !o.Enqueued.IsZero()
	rate := i.sampler.rate()
	i.mu.Lock()
	st := i.actors.get(e.ActorID, e.Actor, o.Actor.Kind(), e.Time)
	keep := true
	switch o.Kind {
	case actors.ObservedMessage:
		st.message(e.Time, e.Wait, e.Processing, weight(rate), o.Outcome == actors.OutcomeFailed)
		if o.Err != nil {
			st.LastError = e.Error
		}
	case actors.ObservedDeadLetter:
		st.DeadLetters++
		// Every dead letter is counted; untraced ones are kept at the
		// sampling rate, so a storm cannot flush the buffer.
		keep = traced || i.sampler.sample(o.Context)
	case actors.ObservedRestart:
		st.Restarts++
		st.LastError = e.Error
	}
	if keep {
		i.add(e)
	}
	i.mu.Unlock()
	if i.adaptive != nil && o.Kind == actors.ObservedMessage {
		i.adaptive.account(time.Since(begin), e.Processing)
	}
}

// weight is how many messages one traced message stands for.
func weight(rate float64) float64 {
	if rate <= 0 {
		return 1
	}
	return 1 / rate
}

// add keeps e, numbered; i.mu is held.
func (i *Inspector) add(e Event) {
	i.seq++
	e.Seq = i.seq
	before := i.events.dropped
	i.events.add(e)
	if i.metrics != nil {
		i.metrics.recorded(e.Kind, i.events.dropped-before)
	}
}

// event turns an observation into an event.
func (i *Inspector) event(o *actors.Observation) Event {
	e := Event{
		Time: o.Ended, ActorID: o.Actor.ID(), Actor: label(o.Actor),
		FromID: o.From.ID(), From: label(o.From), Request: o.Request,
		Enqueued: o.Enqueued, Started: o.Started, Replied: o.Replied, Outcome: o.Outcome,
	}
	if o.Message != nil {
		e.Message = reflect.TypeOf(o.Message).String()
	}
	switch o.Kind {
	case actors.ObservedMessage:
		e.Kind = KindMessage
		e.Wait, e.Processing = o.Started.Sub(o.Enqueued), o.Ended.Sub(o.Started)
	case actors.ObservedDeadLetter:
		e.Kind = KindDeadLetter
		if !o.Enqueued.IsZero() {
			e.Wait = o.Ended.Sub(o.Enqueued)
		}
	case actors.ObservedRestart:
		e.Kind, e.Processing = KindRestart, o.Delay
	}
	if o.Err != nil {
		e.Error = o.Err.Error()
	}
	if ctx := o.Context; ctx != nil {
		e.TraceID = TraceID(trace.SpanContextFromContext(ctx).TraceID())
		e.RequestID = reqinfo.RequestID(ctx)
	}
	return e
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
	i.add(e)
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
