package middleware_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/troupehq/troupe/internal/logjson"
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

// coreChainEcho returns Echo behind BenchmarkCoreChain's stages, with
// telemetry in its slot when it is not nil.
func coreChainEcho(b *testing.B, telemetry echo.MiddlewareFunc) *echo.Echo {
	b.Helper()
	logger := slog.New(logjson.New(io.Discard, nil))
	cors, err := middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"https://app.example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(logger)
	e.Use(middleware.Chain(middleware.Stages{
		Recover:         middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}),
		RequestID:       middleware.RequestID(),
		Telemetry:       telemetry,
		AccessLog:       middleware.AccessLog(logger),
		SecurityHeaders: middleware.SecurityHeaders(),
		CORS:            cors,
		BodyLimit:       middleware.BodyLimit(1 << 20),
		Timeout:         middleware.Timeout(30 * time.Second),
	}))
	return e
}
