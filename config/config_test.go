package config

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		key    string
		want   string
	}{
		{"empty address", func(c *Config) { c.HTTP.Address = "" }, "http.address", "must not be empty"},
		{"address without port", func(c *Config) { c.HTTP.Address = "localhost" }, "http.address", "is not host:port"},
		{"named port", func(c *Config) { c.HTTP.Address = ":http" }, "http.address", "invalid port"},
		{"port too large", func(c *Config) { c.HTTP.Address = ":65536" }, "http.address", "invalid port"},
		{"negative read timeout", func(c *Config) { c.HTTP.ReadTimeout = -time.Second }, "http.read_timeout", "must not be negative, got -1s"},
		{"write timeout below request timeout", func(c *Config) { c.HTTP.WriteTimeout = 30 * time.Second }, "http.write_timeout", "must be greater than http.request_timeout (30s)"},
		{"small header limit", func(c *Config) { c.HTTP.MaxHeaderBytes = 1023 }, "http.max_header_bytes", "must be at least 1KiB, got 1023B"},
		{"zero shutdown timeout", func(c *Config) { c.HTTP.ShutdownTimeout = 0 }, "http.shutdown_timeout", "must be greater than 0, got 0s"},
		{"negative drain delay", func(c *Config) { c.HTTP.DrainDelay = -time.Second }, "http.drain_delay", "must not be negative"},
		{"cert without key", func(c *Config) { c.HTTP.TLS.CertFile = "c.pem" }, "http.tls.key_file", "must be set when http.tls.cert_file is"},
		{"key without cert", func(c *Config) { c.HTTP.TLS.KeyFile = "k.pem" }, "http.tls.cert_file", "must be set when http.tls.key_file is"},
		{"old TLS", func(c *Config) { c.HTTP.TLS.MinVersion = "1.1" }, "http.tls.min_version", `must be one of "1.2", "1.3", got "1.1"`},
		{"bad admin address", func(c *Config) { c.Admin.Address = "9090" }, "admin.address", "is not host:port"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level", `got "trace"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `got "xml"`},
		{"zero health timeout", func(c *Config) { c.Health.Timeout = 0 }, "health.timeout", "must be greater than 0"},
		{"negative cache TTL", func(c *Config) { c.Health.CacheTTL = -1 }, "health.cache_ttl", "must not be negative"},
		{"no algorithms", func(c *Config) { c.Compression.Algorithms = nil }, "compression.algorithms", "must list at least one"},
		{"empty redact field", func(c *Config) { c.Log.RedactFields = []string{"email", " "} }, "log.redact_fields", "empty name"},
		{"service name injection", func(c *Config) { c.Telemetry.ServiceName = "a\nb" }, "telemetry.service_name", "control characters"},
		{"resource attribute", func(c *Config) { c.Telemetry.ResourceAttributes = []string{"env"} }, "telemetry.resource_attributes", `"env" is not key=value`},
		{"zero telemetry shutdown", func(c *Config) { c.Telemetry.ShutdownTimeout = 0 }, "telemetry.shutdown_timeout", "must be greater than 0"},
		{"metric interval", func(c *Config) { c.Telemetry.Metrics.Interval = 0 }, "telemetry.metrics.interval", "must be greater than 0"},
		{"prometheus address", func(c *Config) { c.Telemetry.Prometheus.Address = "9464" }, "telemetry.prometheus.address", "is not host:port"},
		{"otlp timeout", func(c *Config) { c.Telemetry.OTLP.Timeout = 0 }, "telemetry.otlp.timeout", "must be greater than 0"},
		{"otlp headers", func(c *Config) { c.Telemetry.OTLP.Headers = "api-key" }, "telemetry.otlp.headers", "must be key=value pairs"},
		{"otlp endpoint missing", func(c *Config) { c.Telemetry.Traces.Exporter = "otlp" }, "telemetry.otlp.endpoint", `must be set when an exporter is "otlp"`},
		{"redis url", func(c *Config) { c.Redis.URL = "http://user:hunter2@cache:6379" }, "redis.url", "must be a redis:// or rediss:// URL"},
		{"redis timeout zero", func(c *Config) { c.Redis.Timeout = 0 }, "redis.timeout", "greater than 0 and at most 1s, got 0s"},
		{"redis timeout long", func(c *Config) { c.Redis.Timeout = 3 * time.Second }, "redis.timeout", "at most 1s, got 3s"},
		{"redis probe below timeout", func(c *Config) { c.Redis.ProbeInterval = 10 * time.Millisecond }, "redis.probe_interval", "at least redis.timeout (50ms)"},
		{"redis probe long", func(c *Config) { c.Redis.ProbeInterval = time.Hour }, "redis.probe_interval", "at most 1m, got 1h"},
		{"jwks refresh", func(c *Config) { c.Auth.JWT.JWKSRefresh = 0 }, "auth.jwt.jwks_refresh", "must be greater than 0"},
		{"jwks refetch", func(c *Config) { c.Auth.JWT.JWKSMinRefetch = 0 }, "auth.jwt.jwks_min_refetch", "must be greater than 0"},
		{"roles claim", func(c *Config) { c.Auth.JWT.RolesClaim = "" }, "auth.jwt.roles_claim", "must not be empty"},
		{"public path", func(c *Config) { c.Auth.PublicPaths = []string{"GET notes"} }, "auth.public_paths", "is neither"},
		{"revocation store", func(c *Config) { c.Auth.Revocation.Store = "etcd" }, "auth.revocation.store", `got "etcd"`},
		{"revocation redis", func(c *Config) { c.Auth.Revocation.Enabled, c.Auth.Revocation.Store = true, "redis" }, "auth.revocation.store", "needs redis.url"},
		{"reload interval", func(c *Config) { c.Auth.Cedar.ReloadInterval = -1 }, "auth.cedar.reload_interval", "must not be negative"},
		{"rate store", func(c *Config) { c.RateLimit.Store = "etcd" }, "rate_limit.store", `got "etcd"`},
		{"rate store redis", func(c *Config) { c.RateLimit.Enabled, c.RateLimit.Store = true, "redis" }, "rate_limit.store", "needs redis.url"},
		{"lease", func(c *Config) { c.RateLimit.LeaseSize = -1 }, "rate_limit.lease_size", "must not be negative"},
		{"max keys", func(c *Config) { c.RateLimit.MaxKeys = 0 }, "rate_limit.max_keys", "at least 1"},
		{"kv store", func(c *Config) { c.Actors.Components.KVStore = "etcd" }, "actors.components.kv_store", `one of "auto", "memory", "redis", "nats"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			var errs Errors
			if !errors.As(c.Validate(), &errs) || len(errs) != 1 {
				t.Fatalf("Validate() = %v, want exactly one problem", c.Validate())
			}
			if errs[0].Key != tt.key || !strings.Contains(errs[0].Err.Error(), tt.want) {
				t.Errorf("problem = %q, want key %s and %q", errs[0], tt.key, tt.want)
			}
		})
	}
}

func TestConfigValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
	}{
		{"port 0", func(c *Config) { c.HTTP.Address = "127.0.0.1:0" }},
		{"IPv6", func(c *Config) { c.HTTP.Address = "[::1]:8080" }},
		{"timeouts disabled", func(c *Config) { c.HTTP.WriteTimeout, c.HTTP.RequestTimeout = 0, 0 }},
		{"no request timeout", func(c *Config) { c.HTTP.WriteTimeout, c.HTTP.RequestTimeout = time.Second, 0 }},
		{"unlimited body", func(c *Config) { c.HTTP.BodyLimit = 0 }},
		{"proxies", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8"} }},
		{"TLS", func(c *Config) { c.HTTP.TLS = TLS{CertFile: "c", KeyFile: "k", MinVersion: "1.3"} }},
		{"admin disabled", func(c *Config) { c.Admin.Address = "" }},
		{"no frame options", func(c *Config) { c.SecurityHeaders.FrameOptions = "" }},
		{"one algorithm", func(c *Config) { c.Compression.Algorithms = []string{"gzip"} }},
		{"otlp http", func(c *Config) {
			c.Telemetry.Traces.Exporter, c.Telemetry.Metrics.Exporter = "otlp", "otlp"
			c.Telemetry.OTLP.Endpoint = "https://collector.example:4318"
		}},
		{"otlp grpc host:port", func(c *Config) {
			c.Telemetry.Traces.Exporter, c.Telemetry.OTLP.Protocol, c.Telemetry.OTLP.Endpoint = "otlp", "grpc", "collector:4317"
		}},
		{"auth with jwks on loopback", func(c *Config) {
			c.Auth.JWT.JWKSURLs = []string{"http://127.0.0.1:8080/jwks", "https://idp.example/jwks"}
			c.Auth.JWT.Issuer, c.Auth.JWT.Audience = "https://idp.example/", []string{"orders"}
			c.Auth.PublicPaths = []string{"GET /api/v2/notes", "/api/v2/docs"}
			c.Redis.URL = "rediss://:pw@cache.example:6380/1"
			c.Auth.Revocation.Enabled, c.Auth.Revocation.Store = true, "redis"
		}},
		{"telemetry extras", func(c *Config) {
			c.Telemetry.ResourceAttributes = []string{"deployment.environment=prod", "team=core"}
			c.Telemetry.OTLP.Headers = "api-key=abc%20def,x-tenant=t1"
			c.Telemetry.Traces.Sampler, c.Telemetry.Traces.SamplerArg = "traceidratio", 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestConfigHelpers(t *testing.T) {
	if (TLS{CertFile: "c"}).Enabled() || !(TLS{CertFile: "c", KeyFile: "k"}).Enabled() {
		t.Error("TLS.Enabled wants both files")
	}
	if (TLS{MinVersion: "1.2"}).MinVersionID() != tls.VersionTLS12 || (TLS{MinVersion: "1.3"}).MinVersionID() != tls.VersionTLS13 {
		t.Error("TLS.MinVersionID maps versions wrongly")
	}
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	for name, want := range levels {
		if got := (Log{Level: name}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDefaultReturnsFreshSlices(t *testing.T) {
	a := Default()
	a.CORS.AllowMethods[0] = "changed"
	if Default().CORS.AllowMethods[0] != "GET" {
		t.Error("Default shares slices between calls")
	}
}

// TestExampleFile pins config.example.toml to the schema: the same keys in
// both directions, each with a doc comment, values equal to Default.
func TestExampleFile(t *testing.T) {
	const path = "../config.example.toml"
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), toml.Parser()); err != nil {
		t.Fatal(err)
	}
	sch, err := newSchema(reflect.TypeFor[Config]())
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Keys(); !slices.Equal(got, sch.keys) {
		for _, key := range got {
			if !slices.Contains(sch.keys, key) {
				t.Errorf("example has %q, which the schema lacks", key)
			}
		}
		for _, key := range sch.keys {
			if !slices.Contains(got, key) {
				t.Errorf("example lacks %q", key)
			}
		}
	}

	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for i, line := range lines {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "[") &&
			(i == 0 || !strings.HasPrefix(lines[i-1], "# ")) {
			t.Errorf("line %d %q has no doc comment above it", i+1, line)
		}
	}

	cfg := Default()
	dir := t.TempDir()
	eff, err := Loader{Service: "example", File: path, Environ: []string{}, ConfigHome: dir, ConfigDirs: []string{}, WorkDir: dir}.Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("example values differ from Default():\n%+v\n%+v", cfg, Default())
	}
	for _, key := range eff.Keys() {
		if eff.Source(key) != filepath.Clean(path) {
			t.Errorf("%s came from %q, not the example", key, eff.Source(key))
		}
	}
}

// TestDocsDescribeEveryKey keeps docs/config.md's table complete.
func TestDocsDescribeEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := newSchema(reflect.TypeFor[Config]())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range sch.keys {
		env := EnvPrefix("orders") + strings.ToUpper(strings.ReplaceAll(key, ".", envSegmentSep))
		row := "| `" + key + "` |"
		if !strings.Contains(string(doc), row) || !strings.Contains(string(doc), "`"+env+"`") {
			t.Errorf("docs/config.md lacks a table row for %s (with env %s)", key, env)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.toml")
	if err := os.WriteFile(path, []byte("[http]\naddress = \"127.0.0.1:0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, eff, err := Load("troupe-config-test", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Address != "127.0.0.1:0" || eff.Source("http.address") != path || cfg.Log.Level != "info" {
		t.Errorf("Load: address %q from %q, level %q", cfg.HTTP.Address, eff.Source("http.address"), cfg.Log.Level)
	}

	if err := os.WriteFile(path, []byte("[http]\nwrite_timeout = \"1s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, eff, err = Load("troupe-config-test", path)
	var errs Errors
	if cfg != nil || eff != nil || !errors.As(err, &errs) {
		t.Fatalf("Load of an invalid config = %v, %v, %v; want nil, nil, Errors", cfg, eff, err)
	}
	want := "config: http.write_timeout (from " + path + "): must be greater than http.request_timeout (30s)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
}
