package telemetry

import (
	"context"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Every option is set explicitly below so that the exporters' own fallback
// to OTEL_EXPORTER_OTLP_* variables never changes what Config says.

// newSpanExporter builds the OTLP span exporter for o.
func newSpanExporter(ctx context.Context, o OTLPConfig) (sdktrace.SpanExporter, error) {
	initial, maxInterval, elapsed := o.retry()
	if o.protocol() == ProtocolGRPC {
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithHeaders(o.Headers),
			otlptracegrpc.WithTimeout(o.timeout()),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
		}
		if ep := o.endpoint(); strings.Contains(ep, "://") {
			opts = append(opts, otlptracegrpc.WithEndpointURL(ep))
		} else {
			opts = append(opts, otlptracegrpc.WithEndpoint(ep))
			if o.Insecure {
				opts = append(opts, otlptracegrpc.WithInsecure())
			}
		}
		if o.Compression == CompressionGzip {
			opts = append(opts, otlptracegrpc.WithCompressor(CompressionGzip))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(signalURL(o.endpoint(), "traces")),
		otlptracehttp.WithHeaders(o.Headers),
		otlptracehttp.WithTimeout(o.timeout()),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
		otlptracehttp.WithCompression(otlptracehttp.NoCompression),
	}
	if o.Compression == CompressionGzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	return otlptracehttp.New(ctx, opts...)
}

// newMetricExporter builds the OTLP metric exporter for o.
func newMetricExporter(ctx context.Context, o OTLPConfig) (sdkmetric.Exporter, error) {
	initial, maxInterval, elapsed := o.retry()
	if o.protocol() == ProtocolGRPC {
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithHeaders(o.Headers),
			otlpmetricgrpc.WithTimeout(o.timeout()),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
		}
		if ep := o.endpoint(); strings.Contains(ep, "://") {
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(ep))
		} else {
			opts = append(opts, otlpmetricgrpc.WithEndpoint(ep))
			if o.Insecure {
				opts = append(opts, otlpmetricgrpc.WithInsecure())
			}
		}
		if o.Compression == CompressionGzip {
			opts = append(opts, otlpmetricgrpc.WithCompressor(CompressionGzip))
		}
		return otlpmetricgrpc.New(ctx, opts...)
	}
	opts := []otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(signalURL(o.endpoint(), "metrics")),
		otlpmetrichttp.WithHeaders(o.Headers),
		otlpmetrichttp.WithTimeout(o.timeout()),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: elapsed}),
		otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression),
	}
	if o.Compression == CompressionGzip {
		opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
	}
	return otlpmetrichttp.New(ctx, opts...)
}

// retry returns the retry schedule of an export: retries end when the
// export timeout has passed. The exporters' default keeps retrying a failing
// collector for a minute whatever the timeout says, which would hold a batch
// (and the shutdown flush) hostage.
func (o OTLPConfig) retry() (initial, maxInterval, elapsed time.Duration) {
	t := o.timeout()
	return min(500*time.Millisecond, t/4), min(5*time.Second, t), t
}

// signalURL appends /v1/<signal> to the base endpoint's path, the rule the
// OpenTelemetry specification gives for OTEL_EXPORTER_OTLP_ENDPOINT. The
// endpoint was validated, so a parse error cannot happen here; should it,
// the exporter reports the unparsable URL itself.
func signalURL(base, signal string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/" + signal
	return u.String()
}
