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
			wantErr: []string{`Traces.Sampler: unknown sampler "foo" (want one of always_on,`}},
		{name: "unknown exporters", cfg: Config{Traces: TracesConfig{Exporter: "jaeger"}, Metrics: MetricsConfig{Exporter: "prom"}},
			wantErr: []string{`Traces.Exporter: unknown exporter "jaeger"`, `Metrics.Exporter: unknown exporter "prom"`}},
		{name: "unknown protocol", cfg: Config{OTLP: OTLPConfig{Protocol: "http/json"}},
			wantErr: []string{`OTLP.Protocol: unknown protocol "http/json"`}},
		{name: "unknown compression", cfg: Config{OTLP: OTLPConfig{Compression: "zstd"}},
			wantErr: []string{`OTLP.Compression: unknown compression "zstd"`}},
		{name: "ratio above one", cfg: Config{Traces: TracesConfig{SamplerArg: 1.5}},
			wantErr: []string{"Traces.SamplerArg: must be between 0 and 1, got 1.5"}},
		{name: "ratio negative", cfg: Config{Traces: TracesConfig{SamplerArg: -0.1}},
			wantErr: []string{"Traces.SamplerArg"}},
		{name: "ratio NaN", cfg: Config{Traces: TracesConfig{SamplerArg: math.NaN()}},
			wantErr: []string{"Traces.SamplerArg: must be between 0 and 1, got NaN"}},
		{name: "negative durations", cfg: Config{Metrics: MetricsConfig{Interval: -1}, OTLP: OTLPConfig{Timeout: -1}},
			wantErr: []string{"Metrics.Interval: must not be negative", "OTLP.Timeout: must not be negative"}},
		{name: "http endpoint without scheme", cfg: Config{OTLP: OTLPConfig{Endpoint: "collector:4318"}},
			wantErr: []string{"OTLP.Endpoint: \"collector:4318\": scheme must be http or https"}},
		{name: "http endpoint without host", cfg: Config{OTLP: OTLPConfig{Endpoint: "http://"}},
			wantErr: []string{"OTLP.Endpoint: \"http://\" has no host"}},
		{name: "grpc endpoint without port", cfg: Config{OTLP: OTLPConfig{Endpoint: "collector", Protocol: "grpc"}},
			wantErr: []string{`OTLP.Endpoint: "collector" is not host:port`}},
		{name: "empty header name", cfg: Config{OTLP: OTLPConfig{Headers: map[string]string{"": "x"}}},
			wantErr: []string{"OTLP.Headers: empty header name"}},
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
