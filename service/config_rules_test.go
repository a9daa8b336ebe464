package service

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/config"
)

// TestNewReportsSubsystemRulesByKey checks the rules that live in the
// packages implementing a value — middleware, authz, resilience, actors,
// actors/wasm, internal/telemetry — through New: each problem is reported
// under its config key, with the source of its value, like config's own.
func TestNewReportsSubsystemRulesByKey(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*config.Config)
		key    string
		want   string
	}{
		{"negative body limit", func(c *config.Config) { c.HTTP.BodyLimit = -1 }, "http.body_limit", "must not be negative"},
		{"bad proxy", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/99"} }, "http.trusted_proxies", `"10.0.0.0/99" is neither`},
		{"redact header", func(c *config.Config) { c.Log.RedactHeaders = []string{"X Bad"} }, "log.redact_headers", `"X Bad" is not a valid HTTP header name`},
		{"CORS method", func(c *config.Config) { c.CORS.AllowMethods = []string{""} }, "cors.allow_methods", `invalid method ""`},
		{"CORS header", func(c *config.Config) { c.CORS.AllowHeaders = []string{"a:b"} }, "cors.allow_headers", `invalid header name "a:b"`},
		{"CORS expose", func(c *config.Config) { c.CORS.ExposeHeaders = []string{"é"} }, "cors.expose_headers", `invalid header name "é"`},
		{"CORS max age", func(c *config.Config) { c.CORS.MaxAge = -1 }, "cors.max_age", "must not be negative"},
		{"HSTS max age", func(c *config.Config) { c.SecurityHeaders.HSTSMaxAge = -1 }, "security_headers.hsts_max_age", "must not be negative"},
		{"frame options", func(c *config.Config) { c.SecurityHeaders.FrameOptions = "deny" }, "security_headers.frame_options", `got "deny"`},
		{"CSP injection", func(c *config.Config) { c.SecurityHeaders.ContentSecurityPolicy = "a\r\nSet-Cookie: x" }, "security_headers.content_security_policy", "control characters"},
		{"referrer injection", func(c *config.Config) { c.SecurityHeaders.ReferrerPolicy = "a\n" }, "security_headers.referrer_policy", "control characters"},
		{"negative min size", func(c *config.Config) { c.Compression.MinSize = -1 }, "compression.min_size", "must not be negative"},
		{"unknown algorithm", func(c *config.Config) { c.Compression.Algorithms = []string{"gzip", "lz4"} }, "compression.algorithms", `unknown algorithm "lz4"`},
		{"duplicate algorithm", func(c *config.Config) { c.Compression.Algorithms = []string{"gzip", "br", "gzip"} }, "compression.algorithms", `"gzip" is listed twice`},
		{"trace exporter", func(c *config.Config) { c.Telemetry.Traces.Exporter = "zipkin" }, "telemetry.traces.exporter", `unknown exporter "zipkin"`},
		{"sampler", func(c *config.Config) { c.Telemetry.Traces.Sampler = "sometimes" }, "telemetry.traces.sampler", `unknown sampler "sometimes"`},
		{"sampler arg", func(c *config.Config) { c.Telemetry.Traces.SamplerArg = 1.5 }, "telemetry.traces.sampler_arg", "between 0 and 1, got 1.5"},
		{"sampler arg NaN", func(c *config.Config) { c.Telemetry.Traces.SamplerArg = math.NaN() }, "telemetry.traces.sampler_arg", "between 0 and 1"},
		{"metric exporter", func(c *config.Config) { c.Telemetry.Metrics.Exporter = "prometheus" }, "telemetry.metrics.exporter", `unknown exporter "prometheus"`},
		{"otlp protocol", func(c *config.Config) { c.Telemetry.OTLP.Protocol = "http/json" }, "telemetry.otlp.protocol", `unknown protocol "http/json"`},
		{"otlp endpoint scheme", func(c *config.Config) { c.Telemetry.OTLP.Endpoint = "ftp://collector" }, "telemetry.otlp.endpoint", "scheme must be http or https"},
		{"otlp grpc endpoint", func(c *config.Config) { c.Telemetry.OTLP.Protocol, c.Telemetry.OTLP.Endpoint = "grpc", "collector" }, "telemetry.otlp.endpoint", "is not host:port"},
		{"mailbox size", func(c *config.Config) { c.Actors.MessageQueueSize = 0 }, "actors.message_queue_size", "must be at least 1, got 0"},
		{"overflow policy", func(c *config.Config) { c.Actors.OverflowPolicy = "drop" }, "actors.overflow_policy", `got "drop"`},
		{"block timeout", func(c *config.Config) { c.Actors.BlockTimeout = 0 }, "actors.block_timeout", "must be greater than 0"},
		{"actor shutdown", func(c *config.Config) { c.Actors.ShutdownTimeout = -1 }, "actors.shutdown_timeout", "must be greater than 0"},
		{"max restarts", func(c *config.Config) { c.Actors.MaxRestarts = 0 }, "actors.max_restarts", "must be at least 1"},
		{"restart window", func(c *config.Config) { c.Actors.RestartWindow = 0 }, "actors.restart_window", "must be greater than 0"},
		{"backoff min", func(c *config.Config) { c.Actors.BackoffMin, c.Actors.BackoffMax = 0, 0 }, "actors.backoff_min", "must be greater than 0"},
		{"backoff max", func(c *config.Config) { c.Actors.BackoffMax = time.Microsecond }, "actors.backoff_max", "must not be less than the minimum backoff (1ms), got 1µs"},
		{"short lease", func(c *config.Config) { c.Actors.Sharding.LeaseTTL = 100 * time.Millisecond }, "actors.sharding.lease_ttl", "must be at least 300ms (renewal runs every TTL/3), got 100ms"},
		{"zero lease", func(c *config.Config) { c.Actors.Sharding.LeaseTTL = 0 }, "actors.sharding.lease_ttl", "must be at least 300ms (renewal runs every TTL/3), got 0s"},
		{"zero entity idle", func(c *config.Config) { c.Actors.Sharding.IdleTimeout = 0 }, "actors.sharding.idle_timeout", "must be greater than 0, got 0s"},
		{"alg none", func(c *config.Config) { c.Auth.JWT.Algorithms = []string{"RS256", "none"} }, "auth.jwt.algorithms", `"none" is never allowed`},
		{"short secret", func(c *config.Config) {
			c.Auth.JWT.HMACSecret = "short"
			c.Auth.JWT.Issuer = "i"
			c.Auth.JWT.Audience = []string{"a"}
		}, "auth.jwt.hmac_secret", "at least 32 bytes"},
		{"jwks over http", func(c *config.Config) {
			c.Auth.JWT.JWKSURLs = []string{"http://idp.example/jwks"}
			c.Auth.JWT.Issuer, c.Auth.JWT.Audience = "i", []string{"a"}
		}, "auth.jwt.jwks_urls", "must be https (http only on loopback)"},
		{"leeway", func(c *config.Config) { c.Auth.JWT.Leeway = time.Hour }, "auth.jwt.leeway", "at most 5m"},
		{"token size", func(c *config.Config) { c.Auth.JWT.MaxTokenSize = 100 }, "auth.jwt.max_token_size", "at least 1KiB"},
		{"cookie", func(c *config.Config) { c.Auth.JWT.Cookie = "a b" }, "auth.jwt.cookie", "not a valid cookie name"},
		{"token cache", func(c *config.Config) { c.Auth.JWT.CacheSize = -1 }, "auth.jwt.cache_size", "must not be negative"},
		{"issuer required", func(c *config.Config) {
			c.Auth.JWT.HMACSecret = strings.Repeat("k", 32)
			c.Auth.JWT.Audience = []string{"a"}
		}, "auth.jwt.issuer", "required"},
		{"audience required", func(c *config.Config) { c.Auth.JWT.PublicKeyFiles = []string{"k.pem"}; c.Auth.JWT.Issuer = "i" }, "auth.jwt.audience", "required"},
		{"missing jti", func(c *config.Config) { c.Auth.Revocation.MissingJTI = "maybe" }, "auth.revocation.missing_jti", `unknown policy "maybe"`},
		{"revocation entries", func(c *config.Config) { c.Auth.Revocation.MaxEntries = 0 }, "auth.revocation.max_entries", "at least 1"},
		{"decision cache", func(c *config.Config) { c.Auth.Cedar.CacheSize = -1 }, "auth.cedar.cache_size", "must not be negative"},
		{"negative rpm", func(c *config.Config) { c.RateLimit.PerUserRPM = -1 }, "rate_limit.per_user_rpm", "must not be negative"},
		{"redis failure", func(c *config.Config) { c.RateLimit.RedisFailure = "panic" }, "rate_limit.redis_failure", `got "panic"`},
		{"instances", func(c *config.Config) { c.RateLimit.ExpectedInstances = 0 }, "rate_limit.expected_instances", "at least 1"},
		{"failure ratio", func(c *config.Config) { c.Resilience.Breaker.FailureRatio = 0 }, "resilience.breaker.failure_ratio", "greater than 0"},
		{"min requests", func(c *config.Config) { c.Resilience.Client.Breaker.MinRequests = 0 }, "resilience.client.breaker.min_requests", "at least 1"},
		{"breaker interval", func(c *config.Config) { c.Resilience.Breaker.Interval = 0 }, "resilience.breaker.interval", "must be greater than 0"},
		{"open timeout", func(c *config.Config) { c.Resilience.Breaker.OpenTimeout = 0 }, "resilience.breaker.open_timeout", "must be greater than 0"},
		{"half open", func(c *config.Config) { c.Resilience.Breaker.HalfOpenRequests = 0 }, "resilience.breaker.half_open_requests", "at least 1"},
		{"bulkhead", func(c *config.Config) { c.Resilience.Bulkhead.MaxConcurrent = -1 }, "resilience.bulkhead.max_concurrent", "must not be negative"},
		{"bulkhead wait", func(c *config.Config) { c.Resilience.Bulkhead.MaxWait = -1 }, "resilience.bulkhead.max_wait", "must not be negative"},
		{"shedding limits", func(c *config.Config) { c.Resilience.Shedding.MinLimit = 200 }, "resilience.shedding.initial_limit", "the minimum limit (200)"},
		{"client timeout", func(c *config.Config) { c.Resilience.Client.Timeout = 0 }, "resilience.client.timeout", "must be greater than 0"},
		{"retries", func(c *config.Config) { c.Resilience.Client.MaxRetries = -1 }, "resilience.client.max_retries", "must not be negative"},
		{"backoff base", func(c *config.Config) { c.Resilience.Client.BackoffBase, c.Resilience.Client.BackoffMax = 0, 0 }, "resilience.client.backoff_base", "must be greater than 0"},
		{"backoff max", func(c *config.Config) { c.Resilience.Client.BackoffMax = time.Millisecond }, "resilience.client.backoff_max", "not be less than"},
		{"retry budget", func(c *config.Config) { c.Resilience.Client.RetryBudget = 2 }, "resilience.client.retry_budget", "between 0 and 1"},
		{"per host", func(c *config.Config) { c.Resilience.Client.MaxConcurrentPerHost = -1 }, "resilience.client.max_concurrent_per_host", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithConfigDefaults(tt.modify), WithLogOutput(&syncBuffer{}))
			if err == nil {
				t.Fatal("New accepted the config")
			}
			var errs config.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("New = %v, want exactly one config problem", err)
			}
			e := errs[0]
			if e.Key != tt.key || e.Source != "default" || !strings.Contains(e.Err.Error(), tt.want) {
				t.Errorf("problem = %q (key %s, source %q), want key %s from default and %q", e, e.Key, e.Source, tt.key, tt.want)
			}
		})
	}
}

// TestSubsystemRuleNamesAStandardVariable checks that a rule a subsystem owns
// names the standard variable that set the value, as config's own rules do.
func TestSubsystemRuleNamesAStandardVariable(t *testing.T) {
	l := testLoader(t, nil)
	l.Environ = append(l.Environ, "OTEL_TRACES_EXPORTER=zipkin")
	_, err := New("test", WithConfigLoader(l), WithLogOutput(&syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), `telemetry.traces.exporter (from env OTEL_TRACES_EXPORTER): unknown exporter "zipkin"`) {
		t.Fatalf("New = %v", err)
	}
}
