package telemetry

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // substrings; nil means valid
	}{
		{name: "zero value is valid", cfg: Config{}},
		{name: "full otlp grpc", cfg: Config{
			Traces:  TracesConfig{Exporter: "otlp", Sampler: "parentbased_traceidratio", SamplerArg: 0.25},
			Metrics: MetricsConfig{Exporter: "otlp", Interval: time.Second},
			OTLP:    OTLPConfig{Endpoint: "collector:4317", Protocol: "grpc", Compression: "gzip", Timeout: time.Second},
		}},
		{name: "grpc url endpoint", cfg: Config{OTLP: OTLPConfig{Endpoint: "https://collector:4317", Protocol: "grpc"}}},
		{name: "http endpoint with path", cfg: Config{OTLP: OTLPConfig{Endpoint: "https://collector/otlp"}}},
		{name: "unknown sampler", cfg: Config{Traces: TracesConfig{Sampler: "foo"}},
			wantErr: []string{`telemetry.traces.sampler: unknown sampler "foo" (want one of always_on,`}},
		{name: "unknown exporters", cfg: Config{Traces: TracesConfig{Exporter: "jaeger"}, Metrics: MetricsConfig{Exporter: "prom"}},
			wantErr: []string{`telemetry.traces.exporter: unknown exporter "jaeger"`, `telemetry.metrics.exporter: unknown exporter "prom"`}},
		{name: "unknown protocol", cfg: Config{OTLP: OTLPConfig{Protocol: "http/json"}},
			wantErr: []string{`telemetry.otlp.protocol: unknown protocol "http/json"`}},
		{name: "unknown compression", cfg: Config{OTLP: OTLPConfig{Compression: "zstd"}},
			wantErr: []string{`telemetry.otlp.compression: unknown compression "zstd"`}},
		{name: "ratio above one", cfg: Config{Traces: TracesConfig{SamplerArg: 1.5}},
			wantErr: []string{"telemetry.traces.sampler_arg: 1.5 is outside [0, 1]"}},
		{name: "ratio negative", cfg: Config{Traces: TracesConfig{SamplerArg: -0.1}},
			wantErr: []string{"telemetry.traces.sampler_arg"}},
		{name: "ratio NaN", cfg: Config{Traces: TracesConfig{SamplerArg: math.NaN()}},
			wantErr: []string{"telemetry.traces.sampler_arg: NaN"}},
		{name: "negative durations", cfg: Config{Metrics: MetricsConfig{Interval: -1}, OTLP: OTLPConfig{Timeout: -1}},
			wantErr: []string{"telemetry.metrics.interval", "telemetry.otlp.timeout"}},
		{name: "http endpoint without scheme", cfg: Config{OTLP: OTLPConfig{Endpoint: "collector:4318"}},
			wantErr: []string{"telemetry.otlp.endpoint: \"collector:4318\": scheme must be http or https"}},
		{name: "http endpoint without host", cfg: Config{OTLP: OTLPConfig{Endpoint: "http://"}},
			wantErr: []string{"telemetry.otlp.endpoint: \"http://\" has no host"}},
		{name: "grpc endpoint without port", cfg: Config{OTLP: OTLPConfig{Endpoint: "collector", Protocol: "grpc"}},
			wantErr: []string{`telemetry.otlp.endpoint: "collector" is not host:port`}},
		{name: "empty header name", cfg: Config{OTLP: OTLPConfig{Headers: map[string]string{"": "x"}}},
			wantErr: []string{"telemetry.otlp.headers: empty header name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors containing %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestSignalURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"http://c:4318", "http://c:4318/v1/traces"},
		{"http://c:4318/", "http://c:4318/v1/traces"},
		{"https://c/otlp", "https://c/otlp/v1/traces"},
	}
	for _, tt := range tests {
		if got := signalURL(tt.base, "traces"); got != tt.want {
			t.Errorf("signalURL(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}
