package config

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"math"
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
		{"negative body limit", func(c *Config) { c.HTTP.BodyLimit = -1 }, "http.body_limit", "must not be negative"},
		{"zero shutdown timeout", func(c *Config) { c.HTTP.ShutdownTimeout = 0 }, "http.shutdown_timeout", "must be greater than 0, got 0s"},
		{"negative drain delay", func(c *Config) { c.HTTP.DrainDelay = -time.Second }, "http.drain_delay", "must not be negative"},
		{"bad proxy", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/99"} }, "http.trusted_proxies", `"10.0.0.0/99" is neither`},
		{"cert without key", func(c *Config) { c.HTTP.TLS.CertFile = "c.pem" }, "http.tls.key_file", "must be set when http.tls.cert_file is"},
		{"key without cert", func(c *Config) { c.HTTP.TLS.KeyFile = "k.pem" }, "http.tls.cert_file", "must be set when http.tls.key_file is"},
		{"old TLS", func(c *Config) { c.HTTP.TLS.MinVersion = "1.1" }, "http.tls.min_version", `must be one of "1.2", "1.3", got "1.1"`},
		{"bad admin address", func(c *Config) { c.Admin.Address = "9090" }, "admin.address", "is not host:port"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level", `got "trace"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `got "xml"`},
		{"redact header", func(c *Config) { c.Log.RedactHeaders = []string{"X Bad"} }, "log.redact_headers", `"X Bad" is not a valid HTTP token`},
		{"zero health timeout", func(c *Config) { c.Health.Timeout = 0 }, "health.timeout", "must be greater than 0"},
		{"negative cache TTL", func(c *Config) { c.Health.CacheTTL = -1 }, "health.cache_ttl", "must not be negative"},
		{"CORS method", func(c *Config) { c.CORS.AllowMethods = []string{""} }, "cors.allow_methods", "is not a valid HTTP token"},
		{"CORS header", func(c *Config) { c.CORS.AllowHeaders = []string{"a:b"} }, "cors.allow_headers", "is not a valid HTTP token"},
		{"CORS expose", func(c *Config) { c.CORS.ExposeHeaders = []string{"é"} }, "cors.expose_headers", "is not a valid HTTP token"},
		{"CORS max age", func(c *Config) { c.CORS.MaxAge = -1 }, "cors.max_age", "must not be negative"},
		{"HSTS max age", func(c *Config) { c.SecurityHeaders.HSTSMaxAge = -1 }, "security_headers.hsts_max_age", "must not be negative"},
		{"frame options", func(c *Config) { c.SecurityHeaders.FrameOptions = "deny" }, "security_headers.frame_options", `got "deny"`},
		{"CSP injection", func(c *Config) { c.SecurityHeaders.ContentSecurityPolicy = "a\r\nSet-Cookie: x" }, "security_headers.content_security_policy", "control characters"},
		{"referrer injection", func(c *Config) { c.SecurityHeaders.ReferrerPolicy = "a\n" }, "security_headers.referrer_policy", "control characters"},
		{"negative min size", func(c *Config) { c.Compression.MinSize = -1 }, "compression.min_size", "must not be negative"},
		{"no algorithms", func(c *Config) { c.Compression.Algorithms = nil }, "compression.algorithms", "must list at least one"},
		{"unknown algorithm", func(c *Config) { c.Compression.Algorithms = []string{"gzip", "lz4"} }, "compression.algorithms", `unknown algorithm "lz4"`},
		{"duplicate algorithm", func(c *Config) { c.Compression.Algorithms = []string{"gzip", "br", "gzip"} }, "compression.algorithms", `"gzip" is listed twice`},
		{"empty redact field", func(c *Config) { c.Log.RedactFields = []string{"email", " "} }, "log.redact_fields", "empty name"},
		{"service name injection", func(c *Config) { c.Telemetry.ServiceName = "a\nb" }, "telemetry.service_name", "control characters"},
		{"resource attribute", func(c *Config) { c.Telemetry.ResourceAttributes = []string{"env"} }, "telemetry.resource_attributes", `"env" is not key=value`},
		{"zero telemetry shutdown", func(c *Config) { c.Telemetry.ShutdownTimeout = 0 }, "telemetry.shutdown_timeout", "must be greater than 0"},
		{"trace exporter", func(c *Config) { c.Telemetry.Traces.Exporter = "zipkin" }, "telemetry.traces.exporter", `got "zipkin"`},
		{"sampler", func(c *Config) { c.Telemetry.Traces.Sampler = "sometimes" }, "telemetry.traces.sampler", `got "sometimes"`},
		{"sampler arg", func(c *Config) { c.Telemetry.Traces.SamplerArg = 1.5 }, "telemetry.traces.sampler_arg", "between 0 and 1, got 1.5"},
		{"sampler arg NaN", func(c *Config) { c.Telemetry.Traces.SamplerArg = math.NaN() }, "telemetry.traces.sampler_arg", "between 0 and 1"},
		{"metric exporter", func(c *Config) { c.Telemetry.Metrics.Exporter = "prometheus" }, "telemetry.metrics.exporter", `got "prometheus"`},
		{"metric interval", func(c *Config) { c.Telemetry.Metrics.Interval = 0 }, "telemetry.metrics.interval", "must be greater than 0"},
		{"prometheus address", func(c *Config) { c.Telemetry.Prometheus.Address = "9464" }, "telemetry.prometheus.address", "is not host:port"},
		{"otlp protocol", func(c *Config) { c.Telemetry.OTLP.Protocol = "http/json" }, "telemetry.otlp.protocol", `got "http/json"`},
		{"otlp timeout", func(c *Config) { c.Telemetry.OTLP.Timeout = 0 }, "telemetry.otlp.timeout", "must be greater than 0"},
		{"otlp headers", func(c *Config) { c.Telemetry.OTLP.Headers = "api-key" }, "telemetry.otlp.headers", "must be key=value pairs"},
		{"otlp endpoint missing", func(c *Config) { c.Telemetry.Traces.Exporter = "otlp" }, "telemetry.otlp.endpoint", `must be set when an exporter is "otlp"`},
		{"otlp endpoint scheme", func(c *Config) { c.Telemetry.OTLP.Endpoint = "ftp://collector" }, "telemetry.otlp.endpoint", "is not an http:// or https:// URL"},
		{"otlp grpc endpoint", func(c *Config) { c.Telemetry.OTLP.Protocol, c.Telemetry.OTLP.Endpoint = "grpc", "collector" }, "telemetry.otlp.endpoint", "is not host:port"},
		{"mailbox size", func(c *Config) { c.Actors.MessageQueueSize = 0 }, "actors.message_queue_size", "must be at least 1, got 0"},
		{"overflow policy", func(c *Config) { c.Actors.OverflowPolicy = "drop" }, "actors.overflow_policy", `got "drop"`},
		{"block timeout", func(c *Config) { c.Actors.BlockTimeout = 0 }, "actors.block_timeout", "must be greater than 0"},
		{"actor shutdown", func(c *Config) { c.Actors.ShutdownTimeout = -1 }, "actors.shutdown_timeout", "must be greater than 0"},
		{"max restarts", func(c *Config) { c.Actors.MaxRestarts = 0 }, "actors.max_restarts", "must be at least 1"},
		{"restart window", func(c *Config) { c.Actors.RestartWindow = 0 }, "actors.restart_window", "must be greater than 0"},
		{"backoff min", func(c *Config) { c.Actors.BackoffMin, c.Actors.BackoffMax = 0, 0 }, "actors.backoff_min", "must be greater than 0"},
		{"backoff max", func(c *Config) { c.Actors.BackoffMax = time.Microsecond }, "actors.backoff_max", "must not be less than actors.backoff_min (1ms), got 1µs"},
		{"redis url", func(c *Config) { c.Redis.URL = "http://user:hunter2@cache:6379" }, "redis.url", "must be a redis:// or rediss:// URL"},
		{"redis timeout zero", func(c *Config) { c.Redis.Timeout = 0 }, "redis.timeout", "greater than 0 and at most 1s, got 0s"},
		{"redis timeout long", func(c *Config) { c.Redis.Timeout = 3 * time.Second }, "redis.timeout", "at most 1s, got 3s"},
		{"redis probe below timeout", func(c *Config) { c.Redis.ProbeInterval = 10 * time.Millisecond }, "redis.probe_interval", "at least redis.timeout (50ms)"},
		{"redis probe long", func(c *Config) { c.Redis.ProbeInterval = time.Hour }, "redis.probe_interval", "at most 1m, got 1h"},
		{"alg none", func(c *Config) { c.Auth.JWT.Algorithms = []string{"RS256", "none"} }, "auth.jwt.algorithms", `"none" is not allowed`},
		{"short secret", func(c *Config) {
			c.Auth.JWT.HMACSecret = "short"
			c.Auth.JWT.Issuer = "i"
			c.Auth.JWT.Audience = []string{"a"}
		}, "auth.jwt.hmac_secret", "at least 32 bytes"},
		{"jwks over http", func(c *Config) {
			c.Auth.JWT.JWKSURLs = []string{"http://idp.example/jwks"}
			c.Auth.JWT.Issuer, c.Auth.JWT.Audience = "i", []string{"a"}
		}, "auth.jwt.jwks_urls", "must be https (http only on loopback)"},
		{"jwks refresh", func(c *Config) { c.Auth.JWT.JWKSRefresh = 0 }, "auth.jwt.jwks_refresh", "must be greater than 0"},
		{"jwks refetch", func(c *Config) { c.Auth.JWT.JWKSMinRefetch = 0 }, "auth.jwt.jwks_min_refetch", "must be greater than 0"},
		{"leeway", func(c *Config) { c.Auth.JWT.Leeway = time.Hour }, "auth.jwt.leeway", "at most 5m"},
		{"token size", func(c *Config) { c.Auth.JWT.MaxTokenSize = 100 }, "auth.jwt.max_token_size", "at least 1KiB"},
		{"roles claim", func(c *Config) { c.Auth.JWT.RolesClaim = "" }, "auth.jwt.roles_claim", "must not be empty"},
		{"cookie", func(c *Config) { c.Auth.JWT.Cookie = "a b" }, "auth.jwt.cookie", "not a valid cookie name"},
		{"token cache", func(c *Config) { c.Auth.JWT.CacheSize = -1 }, "auth.jwt.cache_size", "must not be negative"},
		{"public path", func(c *Config) { c.Auth.PublicPaths = []string{"GET notes"} }, "auth.public_paths", "is neither"},
		{"issuer required", func(c *Config) {
			c.Auth.JWT.HMACSecret = strings.Repeat("k", 32)
			c.Auth.JWT.Audience = []string{"a"}
		}, "auth.jwt.issuer", "must be set when authentication is on"},
		{"audience required", func(c *Config) { c.Auth.JWT.PublicKeyFiles = []string{"k.pem"}; c.Auth.JWT.Issuer = "i" }, "auth.jwt.audience", "at least one audience"},
		{"revocation store", func(c *Config) { c.Auth.Revocation.Store = "etcd" }, "auth.revocation.store", `got "etcd"`},
		{"revocation redis", func(c *Config) { c.Auth.Revocation.Enabled, c.Auth.Revocation.Store = true, "redis" }, "auth.revocation.store", "needs redis.url"},
		{"missing jti", func(c *Config) { c.Auth.Revocation.MissingJTI = "maybe" }, "auth.revocation.missing_jti", `got "maybe"`},
		{"revocation entries", func(c *Config) { c.Auth.Revocation.MaxEntries = 0 }, "auth.revocation.max_entries", "at least 1"},
		{"reload interval", func(c *Config) { c.Auth.Cedar.ReloadInterval = -1 }, "auth.cedar.reload_interval", "must not be negative"},
		{"decision cache", func(c *Config) { c.Auth.Cedar.CacheSize = -1 }, "auth.cedar.cache_size", "must not be negative"},
		{"rate store", func(c *Config) { c.RateLimit.Store = "etcd" }, "rate_limit.store", `got "etcd"`},
		{"rate store redis", func(c *Config) { c.RateLimit.Enabled, c.RateLimit.Store = true, "redis" }, "rate_limit.store", "needs redis.url"},
		{"negative rpm", func(c *Config) { c.RateLimit.PerUserRPM = -1 }, "rate_limit.per_user_rpm", "must not be negative"},
		{"route limit", func(c *Config) { c.RateLimit.Routes = []string{"POST /api/v2/notes"} }, "rate_limit.routes", "is not"},
		{"global limit", func(c *Config) { c.RateLimit.Global = []string{"/search=0"} }, "rate_limit.global", "is not"},
		{"redis failure", func(c *Config) { c.RateLimit.RedisFailure = "panic" }, "rate_limit.redis_failure", `got "panic"`},
		{"instances", func(c *Config) { c.RateLimit.ExpectedInstances = 0 }, "rate_limit.expected_instances", "at least 1"},
		{"lease", func(c *Config) { c.RateLimit.LeaseSize = -1 }, "rate_limit.lease_size", "must not be negative"},
		{"max keys", func(c *Config) { c.RateLimit.MaxKeys = 0 }, "rate_limit.max_keys", "at least 1"},
		{"failure ratio", func(c *Config) { c.Resilience.Breaker.FailureRatio = 0 }, "resilience.breaker.failure_ratio", "greater than 0"},
		{"min requests", func(c *Config) { c.Resilience.Client.Breaker.MinRequests = 0 }, "resilience.client.breaker.min_requests", "at least 1"},
		{"breaker interval", func(c *Config) { c.Resilience.Breaker.Interval = 0 }, "resilience.breaker.interval", "must be greater than 0"},
		{"open timeout", func(c *Config) { c.Resilience.Breaker.OpenTimeout = 0 }, "resilience.breaker.open_timeout", "must be greater than 0"},
		{"half open", func(c *Config) { c.Resilience.Breaker.HalfOpenRequests = 0 }, "resilience.breaker.half_open_requests", "at least 1"},
		{"bulkhead", func(c *Config) { c.Resilience.Bulkhead.MaxConcurrent = -1 }, "resilience.bulkhead.max_concurrent", "must not be negative"},
		{"bulkhead wait", func(c *Config) { c.Resilience.Bulkhead.MaxWait = -1 }, "resilience.bulkhead.max_wait", "must not be negative"},
		{"bulkhead group", func(c *Config) { c.Resilience.Bulkhead.Groups = []string{"payments"} }, "resilience.bulkhead.groups", "is not"},
		{"shedding limits", func(c *Config) { c.Resilience.Shedding.MinLimit = 200 }, "resilience.shedding.initial_limit", "min_limit (200)"},
		{"client timeout", func(c *Config) { c.Resilience.Client.Timeout = 0 }, "resilience.client.timeout", "must be greater than 0"},
		{"retries", func(c *Config) { c.Resilience.Client.MaxRetries = -1 }, "resilience.client.max_retries", "must not be negative"},
		{"backoff base", func(c *Config) { c.Resilience.Client.BackoffBase, c.Resilience.Client.BackoffMax = 0, 0 }, "resilience.client.backoff_base", "must be greater than 0"},
		{"backoff max", func(c *Config) { c.Resilience.Client.BackoffMax = time.Millisecond }, "resilience.client.backoff_max", "not be less than"},
		{"retry budget", func(c *Config) { c.Resilience.Client.RetryBudget = 2 }, "resilience.client.retry_budget", "between 0 and 1"},
		{"per host", func(c *Config) { c.Resilience.Client.MaxConcurrentPerHost = -1 }, "resilience.client.max_concurrent_per_host", "must not be negative"},
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
