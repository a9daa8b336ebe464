package telemetry

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/troupehq/troupe/internal/otlptest"
	"github.com/troupehq/troupe/internal/syncbuf"
)

func shutdown(t *testing.T, tel *Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestSetupNothingConfigured(t *testing.T) {
	tel, err := Setup(context.Background(), Config{ServiceName: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if tel.TracingEnabled() || tel.MetricsEnabled() {
		t.Error("TracingEnabled() or MetricsEnabled() = true with nothing configured")
	}
	if _, ok := tel.TracerProvider().(tracenoop.TracerProvider); !ok {
		t.Errorf("TracerProvider() = %T, want the noop provider", tel.TracerProvider())
	}
	_, span := Tracer(tel.TracerProvider()).Start(context.Background(), "x")
	if span.IsRecording() {
		t.Error("a span from the disabled provider records")
	}
	if h := tel.MetricsHandler(); h != nil {
		t.Errorf("MetricsHandler() = %v with Prometheus off", h)
	}
	fields := tel.Propagator().Fields()
	slices.Sort(fields) // the composite propagator's order is not fixed
	if strings.Join(fields, ",") != "baggage,traceparent,tracestate" {
		t.Errorf("Propagator().Fields() = %v, want W3C trace context and baggage", fields)
	}
	shutdown(t, tel)
	shutdown(t, tel) // idempotent
}

func TestNilTelemetryIsOff(t *testing.T) {
	var tel *Telemetry
	if tel.TracingEnabled() || tel.MetricsEnabled() || tel.MetricsHandler() != nil || tel.Shutdown(context.Background()) != nil {
		t.Error("a nil Telemetry is not off")
	}
	if tel.TracerProvider() == nil || tel.MeterProvider() == nil || tel.Propagator() == nil {
		t.Error("a nil Telemetry returned a nil provider")
	}
	if tel.HTTPClient(time.Second).Transport == nil {
		t.Error("a nil Telemetry returned a client without transport")
	}
}

func TestSetupRejectsInvalidConfig(t *testing.T) {
	_, err := Setup(context.Background(), Config{Traces: TracesConfig{Sampler: "sometimes"}})
	if err == nil || !strings.Contains(err.Error(), "Traces.Sampler") {
		t.Fatalf("Setup = %v, want the sampler error", err)
	}
}

func TestSetupExportsSpansOverHTTP(t *testing.T) {
	for _, compression := range []string{"", CompressionGzip} {
		t.Run("compression="+compression, func(t *testing.T) {
			rcv := otlptest.NewReceiver(t)
			tel, err := Setup(context.Background(), Config{
				ServiceName: "orders", ServiceVersion: "1.2.3", InstanceID: "orders-0",
				ResourceAttributes: map[string]string{"deployment.environment.name": "test", "service.name": "overridden"},
				Traces:             TracesConfig{Exporter: ExporterOTLP, Sampler: SamplerAlwaysOn},
				OTLP:               OTLPConfig{Endpoint: rcv.URL(), Compression: compression},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !tel.TracingEnabled() {
				t.Fatal("TracingEnabled() = false with the OTLP exporter")
			}
			tracer := Tracer(tel.TracerProvider())
			for _, name := range []string{"GET /orders/:id", "POST /orders"} {
				_, span := tracer.Start(context.Background(), name)
				span.End()
			}
			shutdown(t, tel) // must flush the batch

			spans := rcv.Spans()
			if len(spans) != 2 {
				t.Fatalf("collector got %d spans, want 2", len(spans))
			}
			checkResource(t, rcv.ResourceSpans()[0].GetResource().GetAttributes(), map[string]string{
				"service.name": "orders", "service.version": "1.2.3", "service.instance.id": "orders-0",
				"deployment.environment.name": "test",
			})
			if scope := rcv.ResourceSpans()[0].GetScopeSpans()[0].GetScope(); scope.GetName() != ScopeName || scope.GetVersion() != ScopeVersion {
				t.Errorf("scope = %s@%s, want %s@%s", scope.GetName(), scope.GetVersion(), ScopeName, ScopeVersion)
			}
		})
	}
}

func TestSetupExportsSpansOverGRPC(t *testing.T) {
	rcv := otlptest.NewGRPCReceiver(t)
	tel, err := Setup(context.Background(), Config{
		ServiceName: "orders",
		Traces:      TracesConfig{Exporter: ExporterOTLP},
		OTLP:        OTLPConfig{Endpoint: rcv.Addr(), Protocol: ProtocolGRPC, Insecure: true, Compression: CompressionGzip},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, span := Tracer(tel.TracerProvider()).Start(context.Background(), "work")
	span.End()
	shutdown(t, tel)

	spans := rcv.Spans()
	if len(spans) != 1 || spans[0].GetName() != "work" {
		t.Fatalf("collector got %v, want one span named work", spans)
	}
	checkResource(t, rcv.ResourceSpans()[0].GetResource().GetAttributes(), map[string]string{"service.name": "orders"})
}

func TestSetupPushesMetrics(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTPProtobuf, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			var endpoint string
			var metrics func() int
			if protocol == ProtocolGRPC {
				rcv := otlptest.NewGRPCReceiver(t)
				endpoint, metrics = "http://"+rcv.Addr(), func() int { return len(rcv.Metrics()) }
			} else {
				rcv := otlptest.NewReceiver(t)
				endpoint, metrics = rcv.URL(), func() int { return len(rcv.Metrics()) }
			}
			tel, err := Setup(context.Background(), Config{
				ServiceName: "orders",
				Metrics:     MetricsConfig{Exporter: ExporterOTLP, Interval: time.Hour},
				OTLP:        OTLPConfig{Endpoint: endpoint, Protocol: protocol},
			})
			if err != nil {
				t.Fatal(err)
			}
			recordDecision(tel.MeterProvider(), "/r", "ip", "memory", "allowed")
			shutdown(t, tel) // the final collection is pushed on shutdown
			if metrics() == 0 {
				t.Fatal("collector got no metrics after Shutdown")
			}
		})
	}
}

func TestSamplers(t *testing.T) {
	remoteParent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	tests := []struct {
		sampler        string
		arg            float64
		root, inParent bool // whether a root span / a child of a sampled parent is sampled
	}{
		{SamplerAlwaysOn, 0, true, true},
		{SamplerAlwaysOff, 0, false, false},
		{SamplerTraceIDRatio, 0, false, false},
		{SamplerTraceIDRatio, 1, true, true},
		{SamplerParentBasedAlwaysOn, 0, true, true},
		{"", 0, true, true},
		{SamplerParentBasedAlwaysOff, 0, false, true},
		{SamplerParentBasedTraceIDRatio, 0, false, true},
		{SamplerParentBasedTraceIDRatio, 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.sampler, func(t *testing.T) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(newSampler(TracesConfig{Sampler: tt.sampler, SamplerArg: tt.arg})))
			_, root := tp.Tracer("t").Start(context.Background(), "root")
			_, child := tp.Tracer("t").Start(remoteParent, "child")
			if got := root.SpanContext().IsSampled(); got != tt.root {
				t.Errorf("root sampled = %v, want %v", got, tt.root)
			}
			if got := child.SpanContext().IsSampled(); got != tt.inParent {
				t.Errorf("child of sampled parent sampled = %v, want %v", got, tt.inParent)
			}
		})
	}
}

// TestUnreachableCollector checks that a dead collector neither fails Setup
// nor floods the log, and that Shutdown gives up when its context does.
func TestUnreachableCollector(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + lis.Addr().String()
	lis.Close() // nothing listens there any more: connections are refused

	var logs syncbuf.Buffer
	tel, err := Setup(context.Background(), Config{
		ServiceName: "orders",
		Traces:      TracesConfig{Exporter: ExporterOTLP},
		OTLP:        OTLPConfig{Endpoint: dead, Timeout: 200 * time.Millisecond},
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("Setup with an unreachable collector: %v", err)
	}
	tp := tel.TracerProvider().(*sdktrace.TracerProvider)
	for range 5 {
		_, span := Tracer(tp).Start(context.Background(), "dropped")
		span.End()
		// Each flush is one failed export: five failures, one log line.
		if err := tp.ForceFlush(context.Background()); err != nil {
			t.Fatalf("ForceFlush: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = tel.Shutdown(ctx) // bounded by ctx; the result depends on how far the export got

	if n := strings.Count(logs.String(), "telemetry export failed"); n != 1 {
		t.Errorf("logged %d export failures, want exactly 1 (rate-limited):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "signal=traces") {
		t.Errorf("log does not name the signal:\n%s", logs.String())
	}
}

func TestShutdownRespectsContext(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	rcv.Fail(503) // retryable: the exporter would keep trying for its whole timeout
	tel, err := Setup(context.Background(), Config{
		Traces: TracesConfig{Exporter: ExporterOTLP},
		OTLP:   OTLPConfig{Endpoint: rcv.URL(), Timeout: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, span := Tracer(tel.TracerProvider()).Start(context.Background(), "x")
	span.End()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already done: Shutdown must return instead of waiting out a minute of retries
	if err := tel.Shutdown(ctx); err == nil {
		t.Error("Shutdown with a done context returned nil, want the context's error")
	}
}

func checkResource(t *testing.T, attrs []*commonpb.KeyValue, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := otlptest.Attr(attrs, k); !ok || got != v {
			t.Errorf("resource %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
}
