package otlptest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// store is what both receivers keep: every export they accepted, in order.
type store struct {
	mu      sync.Mutex
	spans   []*tracepb.ResourceSpans
	metrics []*metricspb.ResourceMetrics
}

func (s *store) addSpans(rs []*tracepb.ResourceSpans) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, rs...)
}

func (s *store) addMetrics(rm []*metricspb.ResourceMetrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = append(s.metrics, rm...)
}

// ResourceSpans returns every ResourceSpans received so far, each with the
// resource (service.name and friends) its spans were exported under.
func (s *store) ResourceSpans() []*tracepb.ResourceSpans {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tracepb.ResourceSpans(nil), s.spans...)
}

// Spans returns every span received so far, flattened across resources and
// scopes.
func (s *store) Spans() []*tracepb.Span {
	var out []*tracepb.Span
	for _, rs := range s.ResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			out = append(out, ss.GetSpans()...)
		}
	}
	return out
}

// Metrics returns every ResourceMetrics received so far.
func (s *store) Metrics() []*metricspb.ResourceMetrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*metricspb.ResourceMetrics(nil), s.metrics...)
}

// WaitSpans polls until at least n spans have arrived and returns them, or
// fails t once timeout has passed. Call it from the test's goroutine.
func (s *store) WaitSpans(t testing.TB, n int, timeout time.Duration) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		spans := s.Spans()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("otlptest: got %d spans within %v, want at least %d", len(spans), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Attr returns the value of the attribute named key in attrs, stringified
// (ints and floats in decimal, bools as true/false), and whether it exists.
func Attr(attrs []*commonpb.KeyValue, key string) (string, bool) {
	for _, kv := range attrs {
		if kv.GetKey() != key {
			continue
		}
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			return x.StringValue, true
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(x.IntValue, 10), true
		case *commonpb.AnyValue_DoubleValue:
			return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64), true
		case *commonpb.AnyValue_BoolValue:
			return strconv.FormatBool(x.BoolValue), true
		default:
			return fmt.Sprint(v), true
		}
	}
	return "", false
}
