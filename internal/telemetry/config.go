package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Exporter names for TracesConfig.Exporter and MetricsConfig.Exporter.
const (
	ExporterNone = "none"
	ExporterOTLP = "otlp"
)

// Protocol names for OTLPConfig.Protocol, as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// Compression names for OTLPConfig.Compression.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
)

// Sampler names for TracesConfig.Sampler, as in OTEL_TRACES_SAMPLER, so
// operators can reuse what they know from other OpenTelemetry SDKs.
const (
	SamplerAlwaysOn                = "always_on"
	SamplerAlwaysOff               = "always_off"
	SamplerTraceIDRatio            = "traceidratio"
	SamplerParentBasedAlwaysOn     = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio = "parentbased_traceidratio"
)

// Defaults applied by Setup to zero-valued fields. They follow the
// OpenTelemetry specification's defaults for the equivalent OTEL_* variables.
const (
	DefaultSampler         = SamplerParentBasedAlwaysOn
	DefaultProtocol        = ProtocolHTTPProtobuf
	DefaultHTTPEndpoint    = "http://localhost:4318"
	DefaultGRPCEndpoint    = "localhost:4317"
	DefaultOTLPTimeout     = 10 * time.Second
	DefaultMetricsInterval = 60 * time.Second
)

var (
	exporters    = []string{ExporterNone, ExporterOTLP}
	protocols    = []string{ProtocolGRPC, ProtocolHTTPProtobuf}
	compressions = []string{CompressionNone, CompressionGzip}
	samplers     = []string{
		SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio,
		SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff, SamplerParentBasedTraceIDRatio,
	}
)

// Config is everything Setup needs. The service maps its config keys
// (telemetry.*) and the OTEL_* environment onto it; this package reads no
// environment of its own. Zero values select the defaults above, and an
// all-zero Config sets up nothing: no exporter, no Prometheus, noop providers.
type Config struct {
	// ServiceName, ServiceVersion and InstanceID become the resource
	// attributes service.name, service.version and service.instance.id.
	// Empty ones are omitted.
	ServiceName, ServiceVersion, InstanceID string
	// ResourceAttributes are extra resource attributes. The three fields
	// above win over a key of the same name here.
	ResourceAttributes map[string]string

	// Traces configures span export and sampling.
	Traces TracesConfig
	// Metrics configures OTLP push of metrics.
	Metrics MetricsConfig
	// OTLP is the collector connection shared by traces and metrics.
	OTLP OTLPConfig

	// Prometheus builds a private Prometheus registry fed by the meter
	// provider and served by Telemetry.MetricsHandler.
	Prometheus bool

	// Logger receives exporter errors, at a bounded rate. Nil discards them.
	Logger *slog.Logger
}

// TracesConfig is the telemetry.traces section.
type TracesConfig struct {
	// Exporter is "none" (the default: a noop tracer provider) or "otlp".
	Exporter string
	// Sampler is one of the OTEL_TRACES_SAMPLER names; default
	// parentbased_always_on.
	Sampler string
	// SamplerArg is the ratio in [0, 1] for the *traceidratio samplers.
	SamplerArg float64
}

// MetricsConfig is the telemetry.metrics section.
type MetricsConfig struct {
	// Exporter is "none" (the default) or "otlp" for push to the collector.
	// Prometheus pull is independent of it.
	Exporter string
	// Interval is the OTLP push interval; default 60s.
	Interval time.Duration
}

// OTLPConfig is the telemetry.otlp section.
type OTLPConfig struct {
	// Endpoint is the collector's base address. For http/protobuf it is a
	// URL (http://host:4318); /v1/traces and /v1/metrics are appended to its
	// path, as for OTEL_EXPORTER_OTLP_ENDPOINT. For grpc it is host:port or
	// a URL whose scheme picks TLS (https) or plaintext (http).
	Endpoint string
	// Protocol is "http/protobuf" (the default) or "grpc".
	Protocol string
	// Headers are sent with every export (authentication tokens, tenant IDs).
	Headers map[string]string
	// Insecure disables TLS for a grpc host:port endpoint. An http:// URL is
	// plaintext regardless.
	Insecure bool
	// Timeout bounds one export, retries included; default 10s.
	Timeout time.Duration
	// Compression is "none" (the default) or "gzip".
	Compression string
}

// Validate reports every invalid field, each a *fielderr.Error naming the
// Go field ("Traces.Sampler"), which the service turns into the key
// ("telemetry.traces.sampler"). Samplers, exporters, protocols and
// compressions are this package's vocabulary: config does not repeat it.
func (c Config) Validate() error {
	var errs []error
	oneOf := func(field, what, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			errs = append(errs, fielderr.New(field, "unknown %s %q (want one of %s)", what, v, strings.Join(allowed, ", ")))
		}
	}
	oneOf("Traces.Exporter", "exporter", c.Traces.Exporter, exporters)
	oneOf("Traces.Sampler", "sampler", c.Traces.Sampler, samplers)
	oneOf("Metrics.Exporter", "exporter", c.Metrics.Exporter, exporters)
	oneOf("OTLP.Protocol", "protocol", c.OTLP.Protocol, protocols)
	oneOf("OTLP.Compression", "compression", c.OTLP.Compression, compressions)

	// NaN fails both comparisons, so test for the valid range instead.
	if !(c.Traces.SamplerArg >= 0 && c.Traces.SamplerArg <= 1) {
		errs = append(errs, fielderr.New("Traces.SamplerArg", "must be between 0 and 1, got %v", c.Traces.SamplerArg))
	}
	if c.Metrics.Interval < 0 {
		errs = append(errs, fielderr.New("Metrics.Interval", "must not be negative, got %v", c.Metrics.Interval))
	}
	if c.OTLP.Timeout < 0 {
		errs = append(errs, fielderr.New("OTLP.Timeout", "must not be negative, got %v", c.OTLP.Timeout))
	}
	if c.OTLP.Endpoint != "" {
		if err := validateEndpoint(c.OTLP.protocol(), c.OTLP.Endpoint); err != nil {
			errs = append(errs, &fielderr.Error{Field: "OTLP.Endpoint", Err: err})
		}
	}
	for k := range c.OTLP.Headers {
		if k == "" {
			// The values are secrets: say what is wrong, never what they are.
			errs = append(errs, fielderr.New("OTLP.Headers", "empty header name"))
			break
		}
	}
	return errors.Join(errs...)
}

// validateEndpoint checks that a URL endpoint parses with a usable scheme and
// host, and that a bare grpc endpoint is host:port.
func validateEndpoint(protocol, endpoint string) error {
	if protocol == ProtocolGRPC && !strings.Contains(endpoint, "://") {
		if strings.ContainsAny(endpoint, "/ ") || !strings.Contains(endpoint, ":") {
			return fmt.Errorf("%q is not host:port", endpoint)
		}
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", endpoint)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", endpoint)
	}
	return nil
}

func (c Config) tracesEnabled() bool  { return c.Traces.Exporter == ExporterOTLP }
func (c Config) otlpMetrics() bool    { return c.Metrics.Exporter == ExporterOTLP }
func (c Config) metricsEnabled() bool { return c.Prometheus || c.otlpMetrics() }

func (o OTLPConfig) protocol() string {
	if o.Protocol == "" {
		return DefaultProtocol
	}
	return o.Protocol
}

func (o OTLPConfig) endpoint() string {
	switch {
	case o.Endpoint != "":
		return o.Endpoint
	case o.protocol() == ProtocolGRPC:
		return DefaultGRPCEndpoint
	default:
		return DefaultHTTPEndpoint
	}
}

func (o OTLPConfig) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultOTLPTimeout
	}
	return o.Timeout
}

func (m MetricsConfig) interval() time.Duration {
	if m.Interval == 0 {
		return DefaultMetricsInterval
	}
	return m.Interval
}
