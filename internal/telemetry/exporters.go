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

// Every option is set explicitly so that the exporters' own fallback to
// OTEL_EXPORTER_OTLP_* variables never changes what Config says. The trace
// and metric exporter packages offer the same options with different Go
// types; each builder below lists its package's constructors once, and one
// function per transport decides which options a config needs.

// grpcOptions are the option constructors of one OTLP/gRPC exporter package.
type grpcOptions[O any] struct {
	headers     func(map[string]string) O
	timeout     func(time.Duration) O
	retry       func(initial, maxInterval, elapsed time.Duration) O
	endpointURL func(string) O
	endpoint    func(string) O
	insecure    func() O
	gzip        func() O
}

func (g grpcOptions[O]) of(o OTLPConfig) []O {
	initial, maxInterval, elapsed := o.retry()
	opts := []O{g.headers(o.Headers), g.timeout(o.timeout()), g.retry(initial, maxInterval, elapsed)}
	if ep := o.endpoint(); strings.Contains(ep, "://") {
		opts = append(opts, g.endpointURL(ep))
	} else {
		opts = append(opts, g.endpoint(ep))
		if o.Insecure {
			opts = append(opts, g.insecure())
		}
	}
	if o.Compression == CompressionGzip {
		opts = append(opts, g.gzip())
	}
	return opts
}

// httpOptions are the option constructors of one OTLP/HTTP exporter package.
type httpOptions[O any] struct {
	signal      string // the path segment of /v1/<signal>
	headers     func(map[string]string) O
	timeout     func(time.Duration) O
	retry       func(initial, maxInterval, elapsed time.Duration) O
	endpointURL func(string) O
	compression func(gzip bool) O
}

func (h httpOptions[O]) of(o OTLPConfig) []O {
	initial, maxInterval, elapsed := o.retry()
	return []O{
		h.endpointURL(signalURL(o.endpoint(), h.signal)),
		h.headers(o.Headers),
		h.timeout(o.timeout()),
		h.retry(initial, maxInterval, elapsed),
		h.compression(o.Compression == CompressionGzip),
	}
}

var traceGRPC = grpcOptions[otlptracegrpc.Option]{
	headers: otlptracegrpc.WithHeaders,
	timeout: otlptracegrpc.WithTimeout,
	retry: func(i, m, e time.Duration) otlptracegrpc.Option {
		return otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: i, MaxInterval: m, MaxElapsedTime: e})
	},
	endpointURL: otlptracegrpc.WithEndpointURL,
	endpoint:    otlptracegrpc.WithEndpoint,
	insecure:    otlptracegrpc.WithInsecure,
	gzip:        func() otlptracegrpc.Option { return otlptracegrpc.WithCompressor(CompressionGzip) },
}

var traceHTTP = httpOptions[otlptracehttp.Option]{
	signal:  "traces",
	headers: otlptracehttp.WithHeaders,
	timeout: otlptracehttp.WithTimeout,
	retry: func(i, m, e time.Duration) otlptracehttp.Option {
		return otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: i, MaxInterval: m, MaxElapsedTime: e})
	},
	endpointURL: otlptracehttp.WithEndpointURL,
	compression: func(gzip bool) otlptracehttp.Option {
		if gzip {
			return otlptracehttp.WithCompression(otlptracehttp.GzipCompression)
		}
		return otlptracehttp.WithCompression(otlptracehttp.NoCompression)
	},
}

var metricGRPC = grpcOptions[otlpmetricgrpc.Option]{
	headers: otlpmetricgrpc.WithHeaders,
	timeout: otlpmetricgrpc.WithTimeout,
	retry: func(i, m, e time.Duration) otlpmetricgrpc.Option {
		return otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: i, MaxInterval: m, MaxElapsedTime: e})
	},
	endpointURL: otlpmetricgrpc.WithEndpointURL,
	endpoint:    otlpmetricgrpc.WithEndpoint,
	insecure:    otlpmetricgrpc.WithInsecure,
	gzip:        func() otlpmetricgrpc.Option { return otlpmetricgrpc.WithCompressor(CompressionGzip) },
}

var metricHTTP = httpOptions[otlpmetrichttp.Option]{
	signal:  "metrics",
	headers: otlpmetrichttp.WithHeaders,
	timeout: otlpmetrichttp.WithTimeout,
	retry: func(i, m, e time.Duration) otlpmetrichttp.Option {
		return otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: i, MaxInterval: m, MaxElapsedTime: e})
	},
	endpointURL: otlpmetrichttp.WithEndpointURL,
	compression: func(gzip bool) otlpmetrichttp.Option {
		if gzip {
			return otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression)
		}
		return otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression)
	},
}

// newSpanExporter builds the OTLP span exporter for o.
func newSpanExporter(ctx context.Context, o OTLPConfig) (sdktrace.SpanExporter, error) {
	if o.protocol() == ProtocolGRPC {
		return otlptracegrpc.New(ctx, traceGRPC.of(o)...)
	}
	return otlptracehttp.New(ctx, traceHTTP.of(o)...)
}

// newMetricExporter builds the OTLP metric exporter for o.
func newMetricExporter(ctx context.Context, o OTLPConfig) (sdkmetric.Exporter, error) {
	if o.protocol() == ProtocolGRPC {
		return otlpmetricgrpc.New(ctx, metricGRPC.of(o)...)
	}
	return otlpmetrichttp.New(ctx, metricHTTP.of(o)...)
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
