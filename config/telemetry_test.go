package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePairs(t *testing.T) {
	got, err := ParsePairs(" api-key = a%2Cb , team=core,empty=")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"api-key": "a,b", "team": "core", "empty": ""}
	if !maps.Equal(got, want) {
		t.Errorf("ParsePairs = %v, want %v", got, want)
	}
	for _, bad := range []string{"novalue", "=v", "k=%zz", "a=b,,c=d"} {
		if _, err := ParsePairs(bad); err == nil {
			t.Errorf("ParsePairs(%q) succeeded, want an error", bad)
		}
	}
	if m, err := ParsePairs(""); err != nil || len(m) != 0 {
		t.Errorf(`ParsePairs("") = %v, %v; want an empty map`, m, err)
	}
}

// TestLoadStandardVariables pins where OTEL_* variables rank: above the
// files, below the service's own variables, with OTEL's milliseconds.
func TestLoadStandardVariables(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	toml := "[telemetry]\nservice_name = \"from-file\"\n[telemetry.traces]\nsampler = \"always_on\"\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(env ...string) (Config, *Effective, error) {
		cfg := Default()
		eff, err := Loader{Service: "orders", File: file, Environ: env, ConfigHome: dir, ConfigDirs: []string{}, WorkDir: dir}.Load(&cfg)
		return cfg, eff, err
	}
	cfg, eff, err := load(
		"OTEL_SERVICE_NAME=from-otel",
		"OTEL_TRACES_SAMPLER=traceidratio",
		"ORDERS_TELEMETRY__TRACES__SAMPLER=always_off",
		"OTEL_EXPORTER_OTLP_TIMEOUT=2500",
		"OTEL_TRACES_SAMPLER_ARG=0.25",
		"OTEL_RESOURCE_ATTRIBUTES=a=1,b=2",
		"OTEL_METRIC_EXPORT_INTERVAL=",
	)
	if err != nil {
		t.Fatal(err)
	}
	tel := cfg.Telemetry
	if tel.ServiceName != "from-otel" || tel.Traces.Sampler != "always_off" || tel.OTLP.Timeout != 2500*time.Millisecond ||
		tel.Traces.SamplerArg != 0.25 || !slices.Equal(tel.ResourceAttributes, []string{"a=1", "b=2"}) || tel.Metrics.Interval != time.Minute {
		t.Errorf("telemetry = %+v", tel)
	}
	for key, want := range map[string]string{
		"telemetry.service_name":     "env OTEL_SERVICE_NAME",
		"telemetry.traces.sampler":   "env ORDERS_TELEMETRY__TRACES__SAMPLER",
		"telemetry.otlp.timeout":     "env OTEL_EXPORTER_OTLP_TIMEOUT",
		"telemetry.metrics.interval": "default",
	} {
		if got := eff.Source(key); got != want {
			t.Errorf("Source(%s) = %q, want %q", key, got, want)
		}
	}

	_, _, err = load("OTEL_EXPORTER_OTLP_TIMEOUT=10s", "OTEL_TRACES_SAMPLER_ARG=half")
	for _, want := range []string{
		`telemetry.otlp.timeout (from env OTEL_EXPORTER_OTLP_TIMEOUT): invalid duration "10s" (want whole milliseconds)`,
		`telemetry.traces.sampler_arg (from env OTEL_TRACES_SAMPLER_ARG): invalid number "half"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}
