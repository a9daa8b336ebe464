package inspect

import (
	"context"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// stagingSize bounds the observations waiting to be recorded: 0.85 MB
// (twice, for double buffering), several milliseconds of the busiest actor
// system at every message traced. A buffer of fewer events stages fewer.
const stagingSize = 4096

// stagingCap is the staging capacity for a buffer of maxEvents events.
func stagingCap(maxEvents int) int { return min(stagingSize, max(64, maxEvents)) }

// flushInterval is how often the recorder records what waits, at the
// latest; half a staging buffer wakes it sooner, and every read of the
// inspector records first.
const flushInterval = 20 * time.Millisecond

// staged is an observation waiting to be recorded. Neither the message
// nor the context that caused it is kept: only the message's type, and
// the trace and request ID the event shows. A context holds what its
// request holds — for an HTTP route, the request, its headers and its
// response — so staged contexts kept thousands of requests alive between
// flushes: with a 10,000-event buffer the live heap was 19 MB against 1
// MB with the inspector off, and the collector's scanning of it made HTTP
// through an actor route cost 1.36× the inspector-off CPU in analysis
// mode on one CPU (docs/benchmarks.md#inspector).
type staged struct {
	actors.Observation
	typ       reflect.Type
	traceID   TraceID
	requestID string
	// sampledTrace is whether the cause is a trace OTel samples.
	sampledTrace bool
}

// staging is where Observe leaves observations: a copy into a slot under a
// short lock, on the actor's goroutine. The work of recording — names,
// trace and request IDs, the buffer, the figures — is done later, off the
// actors' goroutines, by flush. Recording on the drain goroutine cost
// Request its fresh goroutine's stack growing on every traced message
// (2.4 µs against 0.47 µs, BenchmarkRequestModes/development).
type staging struct {
	size    int
	mu      sync.Mutex
	cur     []staged // len = what waits, cap = size; nil until the first put
	spare   []staged
	dropped uint64
	wake    chan struct{}
}

func newStaging(size int) *staging { return &staging{size: size, wake: make(chan struct{}, 1)} }

// put stages o; a full staging buffer drops it, counted.
func (s *staging) put(o *actors.Observation) {
	// Small locals, not a staged: put runs on a drain goroutine, whose
	// stack is small and new for most messages, and a 208-byte value on it
	// made it grow on every traced message (2.0 µs against 0.5 µs,
	// BenchmarkRequestModes/development on one CPU).
	var traceID TraceID
	var requestID string
	var sampled bool
	if ctx := o.Context; ctx != nil && ctx != context.Background() {
		traceID, sampled, requestID = cause(ctx)
	}
	s.mu.Lock()
	if s.cur == nil {
		s.cur, s.spare = make([]staged, 0, s.size), make([]staged, 0, s.size)
	}
	n := len(s.cur)
	if n == cap(s.cur) {
		s.dropped++
		s.mu.Unlock()
		return
	}
	s.cur = s.cur[:n+1]
	p := &s.cur[n]
	p.Observation = *o
	p.typ = reflect.TypeOf(o.Message)
	p.Message, p.Context = nil, nil
	p.traceID, p.requestID, p.sampledTrace = traceID, requestID, sampled
	s.mu.Unlock()
	if n == s.size/2 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// cause reads what an event keeps of the context that caused a message:
// its trace ID, whether OTel samples that trace, and its request ID.
func cause(ctx context.Context) (TraceID, bool, string) {
	sc := trace.SpanContextFromContext(ctx)
	return TraceID(sc.TraceID()), sc.IsSampled(), reqinfo.RequestID(ctx)
}

// take returns what waits and makes room for more.
func (s *staging) take() []staged {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) == 0 {
		return nil
	}
	batch := s.cur
	s.cur, s.spare = s.spare[:0], nil
	return batch
}

// give back a batch's buffer once recorded.
func (s *staging) giveBack(batch []staged) {
	clear(batch)
	s.mu.Lock()
	s.spare = batch[:0]
	s.mu.Unlock()
}

// stagedSize is what one staged observation costs.
var stagedSize = int(reflect.TypeFor[staged]().Size())

// bytes is the memory the staging buffers hold; s.mu is held.
func (s *staging) bytes() int { return (cap(s.cur) + cap(s.spare)) * stagedSize }
