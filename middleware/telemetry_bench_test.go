package middleware_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/troupehq/troupe/middleware"
)

// BenchmarkChainTelemetry serves the CoreChain route through the same stages
// as BenchmarkCoreChain: without telemetry (off); with a real SDK meter
// provider and no tracer (metrics, what a service without a trace exporter
// runs); and with both, the tracer sampling nothing (sample0) or everything
// into an exporter that discards the spans (sample1).
func BenchmarkChainTelemetry(b *testing.B) {
	for _, bc := range []struct {
		name    string
		metrics bool
		sampler sdktrace.Sampler // nil: no tracer
	}{
		{"off", false, nil},
		{"metrics", true, nil},
		{"sample0", true, sdktrace.NeverSample()},
		{"sample1", true, sdktrace.AlwaysSample()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var cfg middleware.TelemetryConfig
			if bc.metrics {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
				cfg.MeterProvider = mp
			}
			if bc.sampler != nil {
				tp := sdktrace.NewTracerProvider(
					sdktrace.WithSampler(bc.sampler),
					sdktrace.WithSyncer(tracetest.NewNoopExporter()),
				)
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				cfg.TracerProvider = tp
			}
			benchServe(b, coreChainEcho(b, middleware.TelemetryWithConfig(cfg)))
		})
	}
}
