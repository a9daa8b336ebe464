package service

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// everyKeyTest is the table test below; configKeyTests names it for the keys
// it covers.
const everyKeyTest = "TestEveryConfigKeyHasAnEffect"

// configKeyTests names, for every key of the config schema, the test that
// observes the key's effect on a running service (DESIGN §3: a key that is
// parsed but changes nothing is a bug). TestEveryConfigKeyIsTested keeps it
// equal to the schema, so a new key without an effect test fails CI.
var configKeyTests = []struct{ key, test string }{
	{"inspect.mode", "TestInspectModes"},
	{"inspect.sampling_rate", "TestInspectModes"},
	{"inspect.max_events", "TestInspectBounds"},
	{"inspect.max_actors", "TestInspectBounds"},
	{"inspect.retention", "TestInspectBounds"},
	{"inspect.detect_cycles", "TestInspectCycles"},
	{"inspect.fail_cycles", "TestInspectCycles"},
	{"inspect.adaptive.enabled", "TestInspectAdaptive"},
	{"inspect.adaptive.min_rate", "TestInspectAdaptive"},
	{"inspect.adaptive.max_rate", "TestInspectAdaptive"},
	{"inspect.adaptive.overhead_target", "TestInspectAdaptive"},
	{"inspect.adaptive.interval", "TestInspectAdaptive"},
	{"inspect.console.enabled", "TestInspectConsole"},
	{"inspect.console.auth", "TestInspectConsole"},
	{"inspect.console.token", "TestInspectConsole"},
	{"inspect.console.username", "TestInspectConsole"},
	{"inspect.console.password", "TestInspectConsole"},
	{"inspect.console.max_clients", "TestInspectConsole"},
	{"rate_limit.enabled", "TestRateLimitPerIP"},
	{"rate_limit.expected_instances", "TestRateLimitRedis"},
	{"rate_limit.global", "TestRateLimitRoutesAndGlobal"},
	{"rate_limit.lease_size", "TestRateLimitLease"},
	{"rate_limit.max_keys", "TestRateLimitMaxKeys"},
	{"rate_limit.per_client_rpm", "TestRateLimitPrincipals"},
	{"rate_limit.per_ip_rpm", "TestRateLimitPerIP"},
	{"rate_limit.per_user_rpm", "TestRateLimitPrincipals"},
	{"rate_limit.redis_failure", "TestRateLimitRedis"},
	{"rate_limit.routes", "TestRateLimitRoutesAndGlobal"},
	{"rate_limit.store", "TestRateLimitRedis"},
	{"resilience.breaker.enabled", "TestBreakers"},
	{"resilience.breaker.failure_ratio", "TestBreakers"},
	{"resilience.breaker.half_open_requests", "TestBreakers"},
	{"resilience.breaker.interval", "TestBreakers"},
	{"resilience.breaker.min_requests", "TestBreakers"},
	{"resilience.breaker.open_timeout", "TestBreakers"},
	{"resilience.bulkhead.groups", "TestBulkhead"},
	{"resilience.bulkhead.max_concurrent", "TestBulkhead"},
	{"resilience.bulkhead.max_wait", "TestBulkhead"},
	{"resilience.client.backoff_base", "TestClientConfig"},
	{"resilience.client.backoff_max", "TestClientConfig"},
	{"resilience.client.breaker.enabled", "TestBreakers"},
	{"resilience.client.breaker.failure_ratio", "TestBreakers"},
	{"resilience.client.breaker.half_open_requests", "TestBreakers"},
	{"resilience.client.breaker.interval", "TestBreakers"},
	{"resilience.client.breaker.min_requests", "TestBreakers"},
	{"resilience.client.breaker.open_timeout", "TestBreakers"},
	{"resilience.client.max_concurrent_per_host", "TestClientConfig"},
	{"resilience.client.max_retries", "TestClientConfig"},
	{"resilience.client.retry_budget", "TestClientConfig"},
	{"resilience.client.timeout", "TestClientConfig"},
	{"resilience.shedding.enabled", "TestShedding"},
	{"resilience.shedding.initial_limit", "TestShedding"},
	{"resilience.shedding.max_limit", "TestShedding"},
	{"resilience.shedding.min_limit", "TestShedding"},
	{"realtime.max_connections", "TestRealtimeLimits"},
	{"realtime.max_connections_per_principal", "TestRealtimeLimits"},
	{"realtime.max_message_size", "TestRealtimeMessages"},
	{"realtime.inbound_rate", "TestRealtimeMessages"},
	{"realtime.compression", "TestRealtimeMessages"},
	{"realtime.outbound_queue", "TestRealtimeSlowConsumer"},
	{"realtime.slow_consumer", "TestRealtimeSlowConsumer"},
	{"realtime.ping_interval", "TestRealtimeHeartbeat"},
	{"realtime.idle_timeout", "TestRealtimeHeartbeat"},
	{"realtime.shutdown_timeout", "TestRealtimeShutdown"},
	{"actors.backoff_max", "TestActorsRestartConfig"},
	{"actors.cluster.enabled", "TestActorsClusterNamesAreClusterWide"},
	{"actors.cluster.join_timeout", "TestActorsClusterJoinTimeout"},
	{"actors.sharding.lease_ttl", "TestActorsCluster"},
	{"actors.sharding.idle_timeout", "TestEntityIdleTimeout"},
	{"actors.components.build_missing", "TestComponentsBuildMissing"},
	{"actors.components.cache_dir", "TestComponentsServeAndLimit"},
	{"actors.components.dir", "TestComponentsServeAndLimit"},
	{"actors.components.kv_max_keys", "TestComponentsKV"},
	{"actors.components.kv_store", "TestComponentsKV"},
	{"actors.components.max_components", "TestComponentsStartupErrors"},
	{"actors.components.max_memory_mb", "TestComponentsStartupErrors"},
	{"actors.components.max_message_bytes", "TestComponentsServeAndLimit"},
	{"actors.components.max_reply_bytes", "TestComponentsServeAndLimit"},
	{"actors.components.reload_interval", "TestComponentsHotReload"},
	{"actors.components.warm_instances", "TestComponentsWarmInstances"},
	{"actors.backoff_min", "TestActorsRestartConfig"},
	{"actors.block_timeout", "TestActorsMailboxConfig"},
	{"actors.max_restarts", "TestActorsRestartConfig"},
	{"actors.message_queue_size", "TestActorsMailboxConfig"},
	{"actors.overflow_policy", "TestActorsMailboxConfig"},
	{"actors.restart_window", "TestActorsRestartConfig"},
	{"actors.shutdown_timeout", "TestActorsShutdownTimeout"},
	{"admin.address", everyKeyTest},
	{"admin.pprof", everyKeyTest},
	{"auth.cedar.cache_size", "TestAuthCaches"},
	{"auth.cedar.policies", "TestAuthPolicies"},
	{"auth.cedar.reload_interval", "TestAuthPolicies"},
	{"auth.jwt.algorithms", "TestAuthTokens"},
	{"auth.jwt.audience", "TestAuthTokens"},
	{"auth.jwt.cache_size", "TestAuthCaches"},
	{"auth.jwt.cookie", "TestAuthTokens"},
	{"auth.jwt.hmac_secret", "TestAuthTokens"},
	{"auth.jwt.issuer", "TestAuthTokens"},
	{"auth.jwt.jwks_min_refetch", "TestAuthJWKS"},
	{"auth.jwt.jwks_refresh", "TestAuthJWKS"},
	{"auth.jwt.jwks_urls", "TestAuthJWKS"},
	{"auth.jwt.leeway", "TestAuthTokens"},
	{"auth.jwt.max_token_size", "TestAuthTokens"},
	{"auth.jwt.public_key_files", "TestAuthPublicKeyFiles"},
	{"auth.jwt.required_claims", "TestAuthTokens"},
	{"auth.jwt.roles_claim", "TestAuthTokens"},
	{"auth.public_paths", "TestAuthTokens"},
	{"auth.revocation.enabled", "TestAuthRevocation"},
	{"auth.revocation.max_entries", "TestAuthRevocation"},
	{"auth.revocation.missing_jti", "TestAuthRevocation"},
	{"auth.revocation.store", "TestAuthRevocation"},
	{"compression.algorithms", everyKeyTest},
	{"compression.enabled", everyKeyTest},
	{"compression.min_size", everyKeyTest},
	{"cors.allow_credentials", everyKeyTest},
	{"cors.allow_headers", everyKeyTest},
	{"cors.allow_methods", everyKeyTest},
	{"cors.allow_origins", everyKeyTest},
	{"cors.expose_headers", everyKeyTest},
	{"cors.max_age", everyKeyTest},
	{"health.cache_ttl", everyKeyTest},
	{"health.timeout", everyKeyTest},
	{"http.address", "TestPortInUseFailsRunNamingTheKey"},
	{"http.body_limit", everyKeyTest},
	{"http.drain_delay", everyKeyTest},
	{"http.idle_timeout", everyKeyTest},
	{"http.max_header_bytes", everyKeyTest},
	{"http.read_header_timeout", everyKeyTest},
	{"http.read_timeout", everyKeyTest},
	{"http.request_timeout", everyKeyTest},
	{"http.shutdown_timeout", "TestShutdownTimeoutCancelsStragglers"},
	{"http.tls.cert_file", "TestTLSListener"},
	{"http.tls.key_file", "TestTLSListener"},
	{"http.tls.min_version", everyKeyTest},
	{"http.trusted_proxies", everyKeyTest},
	{"http.write_timeout", everyKeyTest},
	{"log.access", everyKeyTest},
	{"log.format", everyKeyTest},
	{"log.headers", everyKeyTest},
	{"log.level", everyKeyTest},
	{"log.redact_fields", "TestLogRedactFields"},
	{"log.redact_headers", everyKeyTest},
	{"nats.cluster.listen", "TestNATSEmbeddedCluster"},
	{"nats.cluster.name", "TestNATSEmbeddedCluster"},
	{"nats.cluster.password", "TestNATSEmbeddedCluster"},
	{"nats.cluster.routes", "TestNATSEmbeddedCluster"},
	{"nats.cluster.user", "TestNATSEmbeddedCluster"},
	{"nats.connect_timeout", "TestNATSConnectTimeout"},
	{"nats.creds", "TestNATSCredentials"},
	{"nats.jetstream.dir", "TestNATSJetStreamStoreAndDir"},
	{"nats.jetstream.store", "TestNATSJetStreamStoreAndDir"},
	{"nats.listen", "TestNATSEmbedded"},
	{"nats.max_payload", "TestNATSEmbedded"},
	{"nats.name", "TestNATSExternal"},
	{"nats.nkey_seed", "TestNATSCredentials"},
	{"nats.optional", "TestNATSDisconnectedFailsOrWarnsReadiness"},
	{"nats.password", "TestNATSCredentials"},
	{"nats.server_name", "TestNATSEmbedded"},
	{"nats.tls.ca_file", "TestNATSTLS"},
	{"nats.tls.cert_file", "TestNATSTLS"},
	{"nats.tls.key_file", "TestNATSTLS"},
	{"nats.tls.min_version", "TestNATSTLS"},
	{"nats.token", "TestNATSExternal"},
	{"nats.url", "TestNATSExternal"},
	{"nats.user", "TestNATSCredentials"},
	{"redis.probe_interval", "TestRedisTimeoutAndProbeInterval"},
	{"redis.timeout", "TestRedisTimeoutAndProbeInterval"},
	{"redis.url", "TestAuthRevocation"},
	{"security_headers.content_security_policy", everyKeyTest},
	{"security_headers.content_type_nosniff", everyKeyTest},
	{"security_headers.enabled", everyKeyTest},
	{"security_headers.frame_options", everyKeyTest},
	{"security_headers.hsts_include_subdomains", everyKeyTest},
	{"security_headers.hsts_max_age", everyKeyTest},
	{"security_headers.hsts_preload", everyKeyTest},
	{"security_headers.referrer_policy", everyKeyTest},
	{"telemetry.metrics.exporter", "TestTelemetryMetricsPush"},
	{"telemetry.metrics.interval", "TestTelemetryMetricsPush"},
	{"telemetry.otlp.endpoint", "TestTelemetryExportsRequestSpans"},
	{"telemetry.otlp.headers", "TestTelemetryExportsRequestSpans"},
	{"telemetry.otlp.insecure", "TestTelemetryGRPC"},
	{"telemetry.otlp.protocol", "TestTelemetryGRPC"},
	{"telemetry.otlp.timeout", "TestTelemetryFlushIsBounded"},
	{"telemetry.prometheus.address", "TestPrometheusSwitches"},
	{"telemetry.prometheus.enabled", "TestPrometheusSwitches"},
	{"telemetry.resource_attributes", "TestTelemetryExportsRequestSpans"},
	{"telemetry.service_name", "TestTelemetryExportsRequestSpans"},
	{"telemetry.shutdown_timeout", "TestTelemetryFlushIsBounded"},
	{"telemetry.traces.exporter", "TestTelemetryTracesOff"},
	{"telemetry.traces.sampler", "TestTelemetrySampling"},
	{"telemetry.traces.sampler_arg", "TestTelemetrySampling"},
	{"versioning.enforce_sunset", everyKeyTest},
}

// Timings of the slow-client probes. The client's pauses are lower bounds,
// so a server that honours a 100ms timeout always acts before a client that
// needs 500ms: the probes assert an order of events, never a duration.
const (
	effectTimeout = "100ms"                // the timeouts under test
	trickleBytes  = 20                     // bytes sent one at a time…
	trickleGap    = 25 * time.Millisecond  // …this far apart
	idlePause     = 500 * time.Millisecond // keep-alive idle time before a second request
	handlerDelay  = 400 * time.Millisecond // /sleep's pause before it answers
	effectBound   = 10 * time.Second       // every exchange ends before this
)

// cutOff is the observation of a request the server ended early.
const cutOff = "cut off"

// effectCase sets one key and names what a client then observes.
type effectCase struct {
	key string
	// env sets key (always) and the keys its effect depends on, in
	// environment form without the TEST_ prefix.
	env map[string]string
	// tls serves HTTPS with a fresh self-signed certificate.
	tls bool
	// opts are added to every run, after the effect API.
	opts []Option
	// probe exercises the running service and describes what it saw.
	probe func(t *testing.T, f *fixture) string
	// want is probe's answer with key set; without it, it must differ.
	want string
}

var effectCases = []effectCase{
	// [http]
	{
		key:   "http.read_header_timeout",
		env:   map[string]string{"HTTP__READ_HEADER_TIMEOUT": effectTimeout},
		probe: trickle("GET /api/v2/hello HTTP/1.1\r\nHost: x\r\nX-Pad: ", strings.Repeat("a", trickleBytes)+"\r\n\r\n"),
		want:  cutOff,
	},
	{
		key: "http.read_timeout",
		env: map[string]string{"HTTP__READ_TIMEOUT": effectTimeout},
		probe: trickle("POST /api/v2/echo HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(trickleBytes)+"\r\n\r\n",
			strings.Repeat("a", trickleBytes)),
		want: cutOff,
	},
	{
		key:   "http.write_timeout",
		env:   map[string]string{"HTTP__WRITE_TIMEOUT": effectTimeout, "HTTP__REQUEST_TIMEOUT": "0s"},
		probe: trickle("GET /api/v2/sleep HTTP/1.1\r\nHost: x\r\n\r\n", ""),
		want:  cutOff,
	},
	{
		key:   "http.idle_timeout",
		env:   map[string]string{"HTTP__IDLE_TIMEOUT": effectTimeout},
		probe: probeIdleConnection,
		want:  cutOff,
	},
	{
		key: "http.max_header_bytes",
		env: map[string]string{"HTTP__MAX_HEADER_BYTES": "1KiB"},
		probe: func(t *testing.T, f *fixture) string {
			// net/http allows 4KiB of slack beyond the limit.
			return status(f.do(t, "GET", "/api/v2/hello", http.Header{"X-Big": {strings.Repeat("a", 8<<10)}}, ""))
		},
		want: "431",
	},
	{
		key: "http.request_timeout",
		env: map[string]string{"HTTP__REQUEST_TIMEOUT": effectTimeout},
		probe: func(t *testing.T, f *fixture) string {
			resp := f.do(t, "GET", "/api/v2/wait", nil, "")
			return status(resp) + " " + resp.Header.Get("Content-Type")
		},
		want: "503 application/problem+json",
	},
	{
		key: "http.body_limit",
		env: map[string]string{"HTTP__BODY_LIMIT": "1KiB"},
		probe: func(t *testing.T, f *fixture) string {
			over := f.do(t, "POST", "/api/v2/echo", nil, strings.Repeat("a", 2<<10))
			under := f.do(t, "POST", "/api/v2/echo", nil, strings.Repeat("a", 512))
			return "2KiB: " + status(over) + ", 512B: " + status(under)
		},
		want: "2KiB: 413, 512B: 200",
	},
	{
		key: "http.trusted_proxies",
		env: map[string]string{"HTTP__TRUSTED_PROXIES": "127.0.0.1/8"},
		probe: func(t *testing.T, f *fixture) string {
			f.do(t, "GET", "/api/v2/hello", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "")
			ip, _ := accessRecord(t, f)["remote_ip"].(string)
			return ip
		},
		want: "203.0.113.7",
	},
	{
		// TestReadinessFailsAtOnceWhenShutdownBegins shows what a client sees
		// during the delay; here the log tells how long it lasted.
		key: "http.drain_delay",
		env: map[string]string{"HTTP__DRAIN_DELAY": effectTimeout}, // testLoader's default is 0s
		probe: func(t *testing.T, f *fixture) string {
			for _, rec := range records(t, f) {
				if rec["phase"] == "drain_delay" {
					delay, _ := rec["delay"].(float64) // nanoseconds
					return "drained for " + time.Duration(delay).String()
				}
			}
			return "no drain"
		},
		want: "drained for " + effectTimeout,
	},
	{
		key: "http.tls.min_version",
		env: map[string]string{"HTTP__TLS__MIN_VERSION": "1.3"},
		tls: true,
		probe: func(t *testing.T, f *fixture) string {
			tls12 := &http.Client{Timeout: effectBound, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12},
			}}
			resp, err := tls12.Get(f.url("/api/v2/hello"))
			if err != nil {
				return "TLS 1.2 refused"
			}
			resp.Body.Close()
			return "TLS 1.2 accepted"
		},
		want: "TLS 1.2 refused",
	},

	// [admin]
	{
		key: "admin.address",
		env: map[string]string{"ADMIN__ADDRESS": ""},
		probe: func(t *testing.T, f *fixture) string {
			if f.svc.AdminAddr() == nil {
				return "no admin listener"
			}
			resp, _ := get(t, f.adminBase()+"/livez")
			return "admin /livez " + status(resp)
		},
		want: "no admin listener",
	},
	{
		key: "admin.pprof",
		env: map[string]string{"ADMIN__PPROF": "true"},
		probe: func(t *testing.T, f *fixture) string {
			resp, _ := get(t, f.adminBase()+"/debug/pprof/")
			return status(resp)
		},
		want: "200",
	},

	// [log]
	{
		key: "log.level",
		env: map[string]string{"LOG__LEVEL": "debug"},
		probe: func(t *testing.T, f *fixture) string {
			f.do(t, "GET", "/nowhere", nil, "") // the error handler logs a 404 at DEBUG
			for _, rec := range records(t, f) {
				if rec["msg"] == "request failed" && rec["level"] == "DEBUG" {
					return "404 logged at DEBUG"
				}
			}
			return "404 not logged"
		},
		want: "404 logged at DEBUG",
	},
	{
		key: "log.format",
		env: map[string]string{"LOG__FORMAT": "text"},
		probe: func(t *testing.T, f *fixture) string {
			stop(t, f)
			first, _, _ := strings.Cut(f.logs.String(), "\n")
			switch {
			case strings.HasPrefix(first, "{"):
				return "json"
			case strings.HasPrefix(first, "time="):
				return "text"
			}
			return "unknown: " + first
		},
		want: "text",
	},
	{
		key: "log.access",
		env: map[string]string{"LOG__ACCESS": "false"},
		probe: func(t *testing.T, f *fixture) string {
			f.do(t, "GET", "/api/v2/hello", nil, "")
			n := 0
			for _, rec := range records(t, f) {
				if rec["msg"] == "request" {
					n++
				}
			}
			return strconv.Itoa(n) + " access records"
		},
		want: "0 access records",
	},
	{
		key:   "log.headers",
		env:   map[string]string{"LOG__HEADERS": "true"},
		probe: loggedHeader("X-Trace", "abc"),
		want:  "X-Trace: abc",
	},
	{
		key:   "log.redact_headers",
		env:   map[string]string{"LOG__HEADERS": "true", "LOG__REDACT_HEADERS": "X-Secret"},
		probe: loggedHeader("X-Secret", "hunter2"),
		want:  "X-Secret: [redacted]",
	},

	// [health]
	{
		key: "health.timeout",
		env: map[string]string{"HEALTH__TIMEOUT": effectTimeout},
		opts: []Option{WithReadinessCheck("slow", func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
				return nil
			}
		})},
		probe: func(t *testing.T, f *fixture) string {
			resp, _ := get(t, f.base()+"/readyz")
			return status(resp)
		},
		want: "503",
	},
	{
		key: "health.cache_ttl",
		env: map[string]string{"HEALTH__CACHE_TTL": "1h"}, // testLoader's default is 0s
		probe: func(t *testing.T, f *fixture) string {
			for range 3 {
				get(t, f.base()+"/readyz")
			}
			return strconv.Itoa(int(f.checks.Load())) + " check runs for 3 probes"
		},
		want: "1 check runs for 3 probes",
	},

	// [cors]
	{
		key:   "cors.allow_origins",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example"},
		probe: corsHeader(false, "Access-Control-Allow-Origin"),
		want:  "https://app.example",
	},
	{
		key:   "cors.allow_methods",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example", "CORS__ALLOW_METHODS": "GET,PUT"},
		probe: corsHeader(true, "Access-Control-Allow-Methods"),
		want:  "GET, PUT",
	},
	{
		key:   "cors.allow_headers",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example", "CORS__ALLOW_HEADERS": "X-Custom"},
		probe: corsHeader(true, "Access-Control-Allow-Headers"), // the preflight asks for X-Custom
		want:  "X-Custom",
	},
	{
		key:   "cors.expose_headers",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example", "CORS__EXPOSE_HEADERS": "X-Total"},
		probe: corsHeader(false, "Access-Control-Expose-Headers"),
		want:  "X-Total",
	},
	{
		key:   "cors.allow_credentials",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example", "CORS__ALLOW_CREDENTIALS": "true"},
		probe: corsHeader(false, "Access-Control-Allow-Credentials"),
		want:  "true",
	},
	{
		key:   "cors.max_age",
		env:   map[string]string{"CORS__ALLOW_ORIGINS": "https://app.example", "CORS__MAX_AGE": "1m"},
		probe: corsHeader(true, "Access-Control-Max-Age"),
		want:  "60",
	},

	// [security_headers]
	{
		key: "security_headers.enabled",
		env: map[string]string{"SECURITY_HEADERS__ENABLED": "false"},
		tls: true,
		probe: func(t *testing.T, f *fixture) string {
			resp := f.do(t, "GET", "/api/v2/hello", nil, "")
			var present []string
			for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security"} {
				if resp.Header.Get(h) != "" {
					present = append(present, h)
				}
			}
			return "security headers: [" + strings.Join(present, " ") + "]"
		},
		want: "security headers: []",
	},
	{
		key:   "security_headers.content_type_nosniff",
		env:   map[string]string{"SECURITY_HEADERS__CONTENT_TYPE_NOSNIFF": "false"},
		probe: responseHeader("X-Content-Type-Options"),
		want:  "",
	},
	{
		key:   "security_headers.frame_options",
		env:   map[string]string{"SECURITY_HEADERS__FRAME_OPTIONS": "SAMEORIGIN"},
		probe: responseHeader("X-Frame-Options"),
		want:  "SAMEORIGIN",
	},
	{
		key:   "security_headers.content_security_policy",
		env:   map[string]string{"SECURITY_HEADERS__CONTENT_SECURITY_POLICY": "default-src 'self'"},
		probe: responseHeader("Content-Security-Policy"),
		want:  "default-src 'self'",
	},
	{
		key:   "security_headers.referrer_policy",
		env:   map[string]string{"SECURITY_HEADERS__REFERRER_POLICY": "same-origin"},
		probe: responseHeader("Referrer-Policy"),
		want:  "same-origin",
	},
	{
		key:   "security_headers.hsts_max_age",
		env:   map[string]string{"SECURITY_HEADERS__HSTS_MAX_AGE": "1h"},
		tls:   true,
		probe: responseHeader("Strict-Transport-Security"),
		want:  "max-age=3600; includeSubDomains",
	},
	{
		key:   "security_headers.hsts_include_subdomains",
		env:   map[string]string{"SECURITY_HEADERS__HSTS_INCLUDE_SUBDOMAINS": "false"},
		tls:   true,
		probe: responseHeader("Strict-Transport-Security"),
		want:  "max-age=31536000",
	},
	{
		key:   "security_headers.hsts_preload",
		env:   map[string]string{"SECURITY_HEADERS__HSTS_PRELOAD": "true"},
		tls:   true,
		probe: responseHeader("Strict-Transport-Security"),
		want:  "max-age=31536000; includeSubDomains; preload",
	},

	// [compression]: /json answers 2KiB of JSON.
	{
		key:   "compression.enabled",
		env:   map[string]string{"COMPRESSION__ENABLED": "false"},
		probe: contentEncoding("gzip, zstd"),
		want:  "identity",
	},
	{
		key:   "compression.min_size",
		env:   map[string]string{"COMPRESSION__MIN_SIZE": "4KiB"},
		probe: contentEncoding("gzip, zstd"),
		want:  "identity",
	},
	{
		// The client accepts all three equally: the configured order decides.
		key:   "compression.algorithms",
		env:   map[string]string{"COMPRESSION__ALGORITHMS": "gzip,br"},
		probe: contentEncoding("zstd, br, gzip"),
		want:  "gzip",
	},

	// [versioning]: v1 was retired an hour ago.
	{
		key: "versioning.enforce_sunset",
		env: map[string]string{"VERSIONING__ENFORCE_SUNSET": "false"},
		probe: func(t *testing.T, f *fixture) string {
			return status(f.do(t, "GET", "/api/v1/old", nil, ""))
		},
		want: "200",
	},
}

// TestEveryConfigKeyHasAnEffect sets each key through the environment of a
// real running service and observes what a client sees. Each case runs twice:
// with the key set, the probe must see want; without it (the key at its
// default), it must see something else — so the case fails if the service
// ignores the key.
func TestEveryConfigKeyHasAnEffect(t *testing.T) {
	for _, c := range effectCases {
		t.Run(c.key, func(t *testing.T) {
			t.Parallel()
			own := envName(c.key)
			if _, ok := c.env[own]; !ok {
				t.Fatalf("case does not set %s", own)
			}
			if got := c.observe(t, c.env); got != c.want {
				t.Errorf("with %s=%q: observed %q, want %q", own, c.env[own], got, c.want)
			}
			without := maps.Clone(c.env)
			delete(without, own)
			if got := c.observe(t, without); got == c.want {
				t.Errorf("without %s the service also shows %q: the probe cannot tell whether the key is honoured", own, got)
			}
		})
	}
}

// TestEveryConfigKeyIsTested fails when a schema key has no effect test, or
// when configKeyTests or effectCases name a key or test that does not exist.
func TestEveryConfigKeyIsTested(t *testing.T) {
	svc, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	schema := svc.EffectiveConfig().Keys()
	listed := make([]string, 0, len(configKeyTests))
	for _, kt := range configKeyTests {
		listed = append(listed, kt.key)
	}
	for _, k := range schema {
		if !slices.Contains(listed, k) {
			t.Errorf("config key %s has no effect test: add a case to %s (or name the test that covers it) and list it in configKeyTests", k, everyKeyTest)
		}
	}
	for _, k := range listed {
		if !slices.Contains(schema, k) {
			t.Errorf("configKeyTests lists %s, which the schema does not have", k)
		}
	}
	if slices.Sort(listed); len(slices.Compact(listed)) != len(configKeyTests) {
		t.Error("configKeyTests lists a key twice")
	}

	tests := testFuncs(t)
	cased := map[string]int{}
	for _, c := range effectCases {
		cased[c.key]++
	}
	for _, kt := range configKeyTests {
		switch {
		case kt.test == everyKeyTest && cased[kt.key] != 1:
			t.Errorf("%s has %d cases in effectCases, want 1", kt.key, cased[kt.key])
		case kt.test != everyKeyTest && !tests[kt.test]:
			t.Errorf("%s is covered by %s, which is not a test of this package", kt.key, kt.test)
		}
		delete(cased, kt.key)
	}
	for k := range cased {
		t.Errorf("effectCases has a case for %s, which configKeyTests does not list", k)
	}
}

// testFuncs returns the names of the package's Test functions.
func testFuncs(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") {
				names[fn.Name.Name] = true
			}
		}
	}
	return names
}

// envName is key's environment variable without the service prefix.
func envName(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

// fixture is one running service of an effect case.
type fixture struct {
	*running
	checks *atomic.Int32 // runs of the "counted" readiness check
	client *http.Client
}

// observe runs a service with env and returns what c.probe sees.
func (c effectCase) observe(t *testing.T, env map[string]string) string {
	t.Helper()
	if c.tls {
		cert, key := writeSelfSigned(t)
		env = maps.Clone(env)
		env["HTTP__TLS__CERT_FILE"], env["HTTP__TLS__KEY_FILE"] = cert, key
	}
	checks := &atomic.Int32{}
	opts := append([]Option{
		WithAPI(effectAPI()),
		WithReadinessCheck("counted", func(context.Context) error { checks.Add(1); return nil }),
	}, c.opts...)
	f := &fixture{
		running: start(t, env, opts...),
		checks:  checks,
		client: &http.Client{Timeout: effectBound, Transport: &http.Transport{
			DisableCompression: true, // Accept-Encoding is the probes' to set
			TLSClientConfig:    &tls.Config{InsecureSkipVerify: true},
		}},
	}
	defer f.client.CloseIdleConnections()
	return c.probe(t, f)
}

// effectAPI serves the routes the probes need; v1 is past its sunset.
func effectAPI() *versioning.API {
	return versioning.New("/api").
		Version(1, func(g *versioning.Group) { g.GET("/old", okHandler) }).
		Deprecate(1, versioning.Sunset(time.Now().Add(-time.Hour))).
		Version(2, func(g *versioning.Group) {
			g.GET("/hello", okHandler)
			g.POST("/echo", func(c echo.Context) error {
				n, err := io.Copy(io.Discard, c.Request().Body)
				if err != nil {
					return err
				}
				return c.String(http.StatusOK, strconv.FormatInt(n, 10))
			})
			g.GET("/json", func(c echo.Context) error {
				return c.JSON(http.StatusOK, map[string]string{"data": strings.Repeat("x", 2<<10)})
			})
			g.GET("/sleep", func(c echo.Context) error {
				time.Sleep(handlerDelay)
				return c.String(http.StatusOK, "ok")
			})
			g.GET("/wait", func(c echo.Context) error {
				select {
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				case <-time.After(time.Second):
					return c.String(http.StatusOK, "waited")
				}
			})
		})
}

// url returns the main listener's URL of path, https when TLS is on.
func (f *fixture) url(path string) string {
	if f.svc.tlsConfig != nil {
		return "https://" + f.svc.Addr().String() + path
	}
	return f.base() + path
}

// do sends a request to the main listener and returns the response, its
// body read and closed.
func (f *fixture) do(t *testing.T, method, path string, header http.Header, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp
}

func status(resp *http.Response) string { return strconv.Itoa(resp.StatusCode) }

// stop shuts the service down, so every log record has been written.
func stop(t *testing.T, f *fixture) {
	t.Helper()
	if err := f.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// records stops the service and returns its JSON log records.
func records(t *testing.T, f *fixture) []map[string]any {
	t.Helper()
	stop(t, f)
	var recs []map[string]any
	for line := range strings.Lines(f.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// accessRecord stops the service and returns its only access log record.
func accessRecord(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, rec := range records(t, f) {
		if rec["msg"] == "request" {
			found = append(found, rec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d access records, want 1:\n%s", len(found), f.logs.String())
	}
	return found[0]
}

// loggedHeader sends header name: value and reports how the access log
// shows it.
func loggedHeader(name, value string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		f.do(t, "GET", "/api/v2/hello", http.Header{name: {value}}, "")
		rec := accessRecord(t, f)
		headers, ok := rec["headers"].(map[string]any)
		if !ok {
			return "no headers logged"
		}
		shown, _ := headers[name].(string)
		if shown != value && strings.Contains(f.logs.String(), value) {
			return name + " leaked elsewhere in the log"
		}
		return name + ": " + shown
	}
}

// responseHeader reports the value of name on a response from the API.
func responseHeader(name string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		return f.do(t, "GET", "/api/v2/hello", nil, "").Header.Get(name)
	}
}

// corsHeader reports the value of name on the answer to a cross-origin
// request from https://app.example: a preflight for PUT with X-Custom, or a
// simple GET.
func corsHeader(preflight bool, name string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		h := http.Header{"Origin": {"https://app.example"}}
		method := "GET"
		if preflight {
			method = "OPTIONS"
			h.Set("Access-Control-Request-Method", "PUT")
			h.Set("Access-Control-Request-Headers", "X-Custom")
		}
		return f.do(t, method, "/api/v2/hello", h, "").Header.Get(name)
	}
}

// contentEncoding reports the coding of /json for a client sending accept.
func contentEncoding(accept string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		resp := f.do(t, "GET", "/api/v2/json", http.Header{"Accept-Encoding": {accept}}, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /json = %d", resp.StatusCode)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			return ce
		}
		return "identity"
	}
}

// trickle returns a probe that writes head on a raw connection, then slow
// one byte every trickleGap, and reports whether the server answered 200 or
// cut the exchange off first.
func trickle(head, slow string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		conn := dial(t, f)
		written := make(chan struct{})
		defer func() { conn.Close(); <-written }()
		go func() {
			defer close(written)
			if _, err := io.WriteString(conn, head); err != nil {
				return
			}
			for i := range len(slow) {
				time.Sleep(trickleGap)
				if _, err := io.WriteString(conn, slow[i:i+1]); err != nil {
					return
				}
			}
		}()
		return readStatus(t, bufio.NewReader(conn))
	}
}

// probeIdleConnection sends a request, leaves the keep-alive connection
// idle for idlePause, then sends another.
func probeIdleConnection(t *testing.T, f *fixture) string {
	conn := dial(t, f)
	defer conn.Close()
	br := bufio.NewReader(conn)
	const req = "GET /api/v2/hello HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if got := readStatus(t, br); got != "200" {
		t.Fatalf("first request on the connection: %s", got)
	}
	time.Sleep(idlePause)
	_, _ = io.WriteString(conn, req) // a closed connection shows in the read
	return readStatus(t, br)
}

func dial(t *testing.T, f *fixture) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", f.svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetDeadline(time.Now().Add(effectBound)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readStatus reads one response and returns "200" for a complete 200, or
// cutOff when the server failed the request or closed the connection.
func readStatus(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("no answer within %s", effectBound)
	case err == nil && resp.StatusCode == http.StatusOK:
		return "200"
	}
	return cutOff
}
