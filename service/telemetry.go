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

// telemetryPart builds the tracer and meter providers from [telemetry]. With
// the defaults — no OTLP exporter, Prometheus on — spans are not recorded at
// all and metrics feed only the /metrics endpoint. Its release flushes and
// closes the providers, bounded by telemetry.shutdown_timeout; it is
// released after every part that records through it has stopped, so the
// spans of requests in flight at SIGTERM are exported too.
type telemetryPart struct{}

func (telemetryPart) check(c *checker) {
	c.fields("telemetry", telemetryConfig(c.cfg, "", "").Validate(), nil)
}

func (telemetryPart) build(b *builder) {
	tc := telemetryConfig(b.cfg, b.s.name, b.s.opts.version)
	tc.Logger = b.logger
	tel, err := telemetry.Setup(context.Background(), tc)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("telemetry: %w", err))
		return
	}
	b.tel = tel
	b.release("telemetry", func() {
		timeout := b.cfg.Telemetry.ShutdownTimeout
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			b.logger.Warn("telemetry not flushed completely", "error", err, "timeout", timeout)
		}
	})
}

// telemetryConfig is [telemetry] as the telemetry package takes it. Both
// pair lists passed config's own checks, so they parse.
func telemetryConfig(cfg *config.Config, service, version string) telemetry.Config {
	t := cfg.Telemetry
	attrs, _ := config.ParsePairs(strings.Join(t.ResourceAttributes, ","))
	headers, _ := config.ParsePairs(t.OTLP.Headers)
	name := t.ServiceName
	if name == "" {
		name = service
	}
	return telemetry.Config{
		ServiceName:        name,
		ServiceVersion:     version,
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
		Prometheus: t.Prometheus.Enabled && (cfg.Admin.Address != "" || t.Prometheus.Address != ""),
	}
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
