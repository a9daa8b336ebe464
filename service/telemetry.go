package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/telemetry"
)

// setupTelemetry builds the tracer and meter providers from the [telemetry]
// section. With the defaults — no OTLP exporter, Prometheus on — spans are
// not recorded at all and metrics feed only the /metrics endpoint.
func (s *Service) setupTelemetry() error {
	t := s.cfg.Telemetry
	// Both lists passed Validate, so they parse.
	attrs, _ := config.ParsePairs(strings.Join(t.ResourceAttributes, ","))
	headers, _ := config.ParsePairs(t.OTLP.Headers)
	name := t.ServiceName
	if name == "" {
		name = s.name
	}
	tel, err := telemetry.Setup(context.Background(), telemetry.Config{
		ServiceName:        name,
		ServiceVersion:     s.opts.version,
		InstanceID:         newInstanceID(),
		ResourceAttributes: attrs,
		Traces: telemetry.TracesConfig{
			Exporter:   t.Traces.Exporter,
			Sampler:    t.Traces.Sampler,
			SamplerArg: t.Traces.SamplerArg,
		},
		Metrics: telemetry.MetricsConfig{Exporter: t.Metrics.Exporter, Interval: t.Metrics.Interval},
		OTLP: telemetry.OTLPConfig{
			Endpoint:    t.OTLP.Endpoint,
			Protocol:    t.OTLP.Protocol,
			Headers:     headers,
			Insecure:    t.OTLP.Insecure,
			Timeout:     t.OTLP.Timeout,
			Compression: telemetry.CompressionGzip,
		},
		// Metrics nobody can scrape would be recorded for nothing.
		Prometheus: t.Prometheus.Enabled && (s.cfg.Admin.Address != "" || t.Prometheus.Address != ""),
		Logger:     s.logger,
	})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	s.tel = tel
	return nil
}

// newInstanceID returns a random UUID (version 4) for the
// service.instance.id resource attribute, which tells apart the replicas of
// one service.
func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// flushTelemetry flushes and closes the providers, bounded by
// telemetry.shutdown_timeout. It runs after the last request finished, so
// the spans of requests that were in flight at SIGTERM are exported too.
func (s *Service) flushTelemetry() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Telemetry.ShutdownTimeout)
	defer cancel()
	if err := s.tel.Shutdown(ctx); err != nil {
		s.logger.Warn("telemetry not flushed completely", "error", err, "timeout", s.cfg.Telemetry.ShutdownTimeout)
	}
}

// metricsHandler serves /metrics alone, for telemetry.prometheus.address.
func (s *Service) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
	return mux
}

// HTTPClient returns a client for calls to other services: each request gets
// a client span and http.client.* metrics, and carries the caller's trace
// context (traceparent, baggage) so the dependency's spans join the trace.
// timeout bounds each whole request; 0 means none.
func (s *Service) HTTPClient(timeout time.Duration) *http.Client {
	return s.tel.HTTPClient(timeout)
}

// TracerProvider returns the service's tracer provider, for spans of the
// application's own. It is a no-op provider unless telemetry.traces.exporter
// is "otlp".
func (s *Service) TracerProvider() trace.TracerProvider { return s.tel.TracerProvider() }

// MeterProvider returns the service's meter provider, for the application's
// own instruments; they appear on /metrics and in the OTLP push with
// Troupe's.
func (s *Service) MeterProvider() metric.MeterProvider { return s.tel.MeterProvider() }
