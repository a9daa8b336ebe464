package telemetry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Telemetry owns one service's tracer and meter providers and the exporters
// behind them. Its methods are safe on a nil *Telemetry, which behaves as
// telemetry switched off, so callers need no nil checks.
type Telemetry struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	metricsHandler http.Handler
	gatherer       prometheus.Gatherer // the registry behind metricsHandler

	// shutdowns flush and close the SDK providers, traces first so spans
	// recorded while metrics flush are not lost.
	shutdowns []func(context.Context) error

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup validates cfg and builds the providers it asks for. Exporters connect
// lazily: an unreachable collector does not fail Setup, it makes exports fail
// later, and those failures are logged to cfg.Logger at a bounded rate.
//
// Call Shutdown when the service stops, after the last request finished, so
// buffered spans and metrics are flushed.
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Telemetry{
		tracerProvider: tracenoop.NewTracerProvider(),
		meterProvider:  metricnoop.NewMeterProvider(),
		propagator:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	if !cfg.tracesEnabled() && !cfg.metricsEnabled() {
		return t, nil
	}

	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	errs := newErrorLimiter(cfg.Logger)

	if cfg.tracesEnabled() {
		exp, err := newSpanExporter(ctx, cfg.OTLP)
		if err != nil {
			return nil, fmt.Errorf("telemetry: trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSampler(newSampler(cfg.Traces)),
			sdktrace.WithBatcher(loggingSpanExporter{SpanExporter: exp, errs: errs}),
		)
		t.tracerProvider = tp
		t.shutdowns = append(t.shutdowns, tp.Shutdown)
	}

	if cfg.metricsEnabled() {
		filter, limit := sdkOptions()
		histograms := newHistogramProducer(histogramViews, filter, limit)
		opts := []sdkmetric.Option{
			sdkmetric.WithResource(res), sdkmetric.WithView(durationView),
			sdkmetric.WithExemplarFilter(filter), sdkmetric.WithCardinalityLimit(limit),
		}
		if cfg.Prometheus {
			reader, handler, reg, err := newPrometheus(histograms)
			if err != nil {
				// Stop the tracer provider built above: the caller gets no
				// Telemetry to shut down.
				return nil, errors.Join(err, t.Shutdown(ctx))
			}
			opts = append(opts, sdkmetric.WithReader(reader))
			t.metricsHandler, t.gatherer = handler, reg
		}
		if cfg.otlpMetrics() {
			exp, err := newMetricExporter(ctx, cfg.OTLP)
			if err != nil {
				return nil, errors.Join(fmt.Errorf("telemetry: metric exporter: %w", err), t.Shutdown(ctx))
			}
			opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(
				loggingMetricExporter{Exporter: exp, errs: errs},
				sdkmetric.WithInterval(cfg.Metrics.interval()),
				sdkmetric.WithTimeout(cfg.OTLP.timeout()),
				sdkmetric.WithProducer(histograms),
			)))
		}
		mp := sdkmetric.NewMeterProvider(opts...)
		t.meterProvider = meterProvider{MeterProvider: mp, histograms: histograms}
		t.shutdowns = append(t.shutdowns, mp.Shutdown)
	}
	return t, nil
}

// durationView gives http.server.request.duration the bucket boundaries that
// the HTTP semantic conventions advise, whatever advice its instrument
// carries, so dashboards can rely on them. histogramViews says the same to
// the producer of Troupe's own Histograms.
var durationView = sdkmetric.NewView(
	sdkmetric.Instrument{Name: "http.server.request.duration"},
	sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: DurationBuckets}},
)

var histogramViews = map[string][]float64{"http.server.request.duration": DurationBuckets}

// DurationBuckets are the histogram bucket boundaries, in seconds, that the
// HTTP semantic conventions advise for request durations. Troupe uses them
// for every latency histogram measured in whole requests or messages.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// newResource describes the service. It deliberately skips
// resource.Default, which would read OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME behind the config's back.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+3)
	for _, k := range slices.Sorted(maps.Keys(cfg.ResourceAttributes)) {
		attrs = append(attrs, attribute.String(k, cfg.ResourceAttributes[k]))
	}
	// Later duplicates win in an attribute set, so the dedicated fields
	// override a same-named ResourceAttributes entry.
	for _, kv := range [...]struct{ key, value string }{
		{"service.name", cfg.ServiceName},
		{"service.version", cfg.ServiceVersion},
		{"service.instance.id", cfg.InstanceID},
	} {
		if kv.value != "" {
			attrs = append(attrs, attribute.String(kv.key, kv.value))
		}
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}

// newSampler maps a validated sampler name onto the SDK's samplers.
func newSampler(c TracesConfig) sdktrace.Sampler {
	switch c.Sampler {
	case SamplerAlwaysOn:
		return sdktrace.AlwaysSample()
	case SamplerAlwaysOff:
		return sdktrace.NeverSample()
	case SamplerTraceIDRatio:
		return sdktrace.TraceIDRatioBased(c.SamplerArg)
	case SamplerParentBasedAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case SamplerParentBasedTraceIDRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SamplerArg))
	default:
		return sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
}

// TracerProvider returns the provider spans are started from: the SDK's when
// traces are exported, otherwise a noop provider whose spans record nothing
// and cost next to nothing.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if t == nil {
		return tracenoop.NewTracerProvider()
	}
	return t.tracerProvider
}

// TracingEnabled reports whether a span exporter is configured. When it is
// false every span is a noop, so callers may skip building span attributes
// that would be thrown away, or skip installing tracing altogether.
func (t *Telemetry) TracingEnabled() bool {
	if t == nil {
		return false
	}
	_, ok := t.tracerProvider.(*sdktrace.TracerProvider)
	return ok
}

// MeterProvider returns the provider instruments are created from: the SDK's
// when Prometheus or OTLP metrics are on, otherwise a noop provider.
func (t *Telemetry) MeterProvider() metric.MeterProvider {
	if t == nil {
		return metricnoop.NewMeterProvider()
	}
	return t.meterProvider
}

// MetricsEnabled reports whether metrics are recorded anywhere (Prometheus
// or OTLP), so a subsystem can skip measuring what nobody would see.
func (t *Telemetry) MetricsEnabled() bool {
	if t == nil {
		return false
	}
	_, ok := t.meterProvider.(meterProvider)
	return ok
}

// Propagator returns the W3C trace-context and baggage propagator. It is
// returned even when tracing is off, so incoming trace context still flows
// to outgoing requests through services that record nothing themselves.
func (t *Telemetry) Propagator() propagation.TextMapPropagator {
	if t == nil {
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return t.propagator
}

// MetricsHandler returns the Prometheus exposition handler, or nil when
// Prometheus is off. It serves this Telemetry's private registry: the
// service's metrics plus the Go runtime and process collectors.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t == nil {
		return nil
	}
	return t.metricsHandler
}

// Gatherer returns the Prometheus registry MetricsHandler serves, nil when
// Prometheus is off: the ops console reads current values from it.
func (t *Telemetry) Gatherer() prometheus.Gatherer {
	if t == nil || t.gatherer == nil {
		return nil
	}
	return t.gatherer
}

// Shutdown flushes buffered spans and metrics and stops the exporters. It
// gives up when ctx is done, returning ctx's error. Later calls return the
// first call's result without doing anything.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.shutdownOnce.Do(func() {
		var errs []error
		for _, shutdown := range t.shutdowns {
			if err := shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}
