package inspect

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// TestStagingKeepsNoCause: a staged observation keeps its cause's trace
// and request ID and whether OTel samples the trace, but neither the
// context nor the message, which hold what their request holds.
func TestStagingKeepsNoCause(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
	ctx := reqinfo.NewContext(trace.ContextWithSpanContext(context.Background(), sc), &reqinfo.Info{ID: "req-1"})
	s := newStaging(8)
	s.put(&actors.Observation{Kind: actors.ObservedMessage, Context: ctx, Message: "hi"})
	s.put(&actors.Observation{Kind: actors.ObservedMessage, Context: context.Background()})
	batch := s.take()
	if len(batch) != 2 {
		t.Fatalf("staged %d observations, want 2", len(batch))
	}
	if p := batch[0]; p.Context != nil || p.Message != nil || p.typ.String() != "string" ||
		p.traceID != TraceID(sc.TraceID()) || p.requestID != "req-1" || !p.sampledTrace {
		t.Errorf("staged %+v", p)
	}
	if p := batch[1]; p.Context != nil || !p.traceID.IsZero() || p.requestID != "" || p.sampledTrace {
		t.Errorf("staged without a cause: %+v", p)
	}
}
