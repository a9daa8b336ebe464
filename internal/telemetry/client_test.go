package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestHTTPClientPropagatesAndTraces(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer srv.Close()

	rec := tracetest.NewSpanRecorder()
	tel, err := Setup(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	tel.tracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	ctx, parent := Tracer(tel.TracerProvider()).Start(context.Background(), "parent")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := tel.HTTPClient(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	header := <-got
	ended := rec.Ended()
	if len(ended) != 2 {
		t.Fatalf("recorded %d spans, want client + parent", len(ended))
	}
	client := ended[0]
	if client.SpanKind() != trace.SpanKindClient || client.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("client span kind %v parent %v, want a client child of %v", client.SpanKind(), client.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	want := "00-" + parent.SpanContext().TraceID().String() + "-" + client.SpanContext().SpanID().String() + "-01"
	if header != want {
		t.Errorf("traceparent = %q, want %q", header, want)
	}
}

// TestHTTPTransportPropagatesWhenTracingOff checks that a service that
// records nothing still passes an incoming trace on.
func TestHTTPTransportPropagatesWhenTracingOff(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer srv.Close()
	tel, err := Setup(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	incoming := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled, Remote: true})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), incoming)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := (&http.Client{Transport: tel.HTTPTransport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "00-" + testTraceID.String() + "-" + testSpanID.String() + "-01"; <-got != want {
		t.Errorf("traceparent not passed on, want %q", want)
	}
}
