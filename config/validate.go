package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks the values and the relations between them that decoding
// cannot: ranges, enumerations, and pairs of keys that only make sense
// together. It returns Errors naming each offending key, or nil. Load calls
// it and adds the source of each key.
func (c *Config) Validate() error {
	var v validator
	h := c.HTTP
	v.check("http.address", hostPort(h.Address))
	v.nonNegative("http.read_header_timeout", h.ReadHeaderTimeout)
	v.nonNegative("http.read_timeout", h.ReadTimeout)
	v.nonNegative("http.write_timeout", h.WriteTimeout)
	v.nonNegative("http.idle_timeout", h.IdleTimeout)
	v.nonNegative("http.request_timeout", h.RequestTimeout)
	if h.WriteTimeout > 0 && h.RequestTimeout > 0 && h.WriteTimeout <= h.RequestTimeout {
		v.fail("http.write_timeout", "must be greater than http.request_timeout (%s), or 0 to disable it, so a timed-out request still gets its error response", shortDuration(h.RequestTimeout))
	}
	if h.MaxHeaderBytes < KiB {
		v.fail("http.max_header_bytes", "must be at least 1KiB, got %s", h.MaxHeaderBytes)
	}
	if h.BodyLimit < 0 {
		v.fail("http.body_limit", "must not be negative")
	}
	v.positive("http.shutdown_timeout", h.ShutdownTimeout)
	v.nonNegative("http.drain_delay", h.DrainDelay)
	for _, p := range h.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			v.fail("http.trusted_proxies", "%q is neither an IP address nor a CIDR prefix", p)
		}
	}
	switch {
	case h.TLS.CertFile != "" && h.TLS.KeyFile == "":
		v.fail("http.tls.key_file", "must be set when http.tls.cert_file is")
	case h.TLS.KeyFile != "" && h.TLS.CertFile == "":
		v.fail("http.tls.cert_file", "must be set when http.tls.key_file is")
	}
	v.oneOf("http.tls.min_version", h.TLS.MinVersion, "1.2", "1.3")

	if c.Admin.Address != "" {
		v.check("admin.address", hostPort(c.Admin.Address))
	}

	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")
	v.tokens("log.redact_headers", c.Log.RedactHeaders)
	for _, f := range c.Log.RedactFields {
		if strings.TrimSpace(f) == "" {
			v.fail("log.redact_fields", "must not contain an empty name")
		}
	}

	v.positive("health.timeout", c.Health.Timeout)
	v.nonNegative("health.cache_ttl", c.Health.CacheTTL)

	v.tokens("cors.allow_methods", c.CORS.AllowMethods)
	v.tokens("cors.allow_headers", c.CORS.AllowHeaders)
	v.tokens("cors.expose_headers", c.CORS.ExposeHeaders)
	v.nonNegative("cors.max_age", c.CORS.MaxAge)

	s := c.SecurityHeaders
	v.nonNegative("security_headers.hsts_max_age", s.HSTSMaxAge)
	v.oneOf("security_headers.frame_options", s.FrameOptions, "DENY", "SAMEORIGIN", "")
	v.headerValue("security_headers.content_security_policy", s.ContentSecurityPolicy)
	v.headerValue("security_headers.referrer_policy", s.ReferrerPolicy)

	if c.Compression.MinSize < 0 {
		v.fail("compression.min_size", "must not be negative")
	}
	v.algorithms(c.Compression.Algorithms)

	v.telemetry(c.Telemetry)
	v.redis(c.Redis)
	v.auth(c.Auth, c.Redis)
	v.resilience(c.RateLimit, c.Resilience, c.Redis)

	a := c.Actors
	if a.MessageQueueSize < 1 {
		v.fail("actors.message_queue_size", "must be at least 1, got %d", a.MessageQueueSize)
	}
	v.oneOf("actors.overflow_policy", a.OverflowPolicy, OverflowPolicies...)
	v.positive("actors.block_timeout", a.BlockTimeout)
	v.positive("actors.shutdown_timeout", a.ShutdownTimeout)
	if a.MaxRestarts < 1 {
		v.fail("actors.max_restarts", "must be at least 1, got %d", a.MaxRestarts)
	}
	v.positive("actors.restart_window", a.RestartWindow)
	v.positive("actors.backoff_min", a.BackoffMin)
	if a.BackoffMax < a.BackoffMin {
		v.fail("actors.backoff_max", "must not be less than actors.backoff_min (%s), got %s", shortDuration(a.BackoffMin), shortDuration(a.BackoffMax))
	}
	v.components(a.Components, c.Redis)

	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

// components checks [actors.components].
func (v *validator) components(c Components, r Redis) {
	atLeast := func(key string, n, least int) {
		if n < least {
			v.fail(key, "must be at least %d, got %d", least, n)
		}
	}
	atLeast("actors.components.max_components", c.MaxComponents, 1)
	atLeast("actors.components.max_memory_mb", c.MaxMemoryMB, 1)
	if c.MaxMemoryMB > 4096 {
		v.fail("actors.components.max_memory_mb", "must be at most 4096 (the wasm32 address space), got %d", c.MaxMemoryMB)
	}
	atLeast("actors.components.max_message_bytes", c.MaxMessageBytes, 1)
	atLeast("actors.components.max_reply_bytes", c.MaxReplyBytes, 1)
	atLeast("actors.components.warm_instances", c.WarmInstances, 0)
	v.nonNegative("actors.components.reload_interval", c.ReloadInterval)
	v.oneOf("actors.components.kv_store", c.KVStore, "auto", "memory", "redis")
	if c.KVStore == "redis" && r.URL == "" {
		v.fail("actors.components.kv_store", `is "redis" but redis.url is not set`)
	}
	atLeast("actors.components.kv_max_keys", c.KVMaxKeys, 1)
}

// Bounds of the [redis] durations. A budget over a second is the stall the
// budget exists to prevent (go-redis's own default waits 5 s); a probe
// interval over a minute leaves a recovered Redis unused that long.
const (
	maxRedisTimeout       = time.Second
	maxRedisProbeInterval = time.Minute
)

func (v *validator) redis(r Redis) {
	if r.URL != "" {
		if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			// The URL may hold a password: say what is wrong, not what it is.
			v.fail("redis.url", "must be a redis:// or rediss:// URL with a host")
		}
	}
	floor := r.Timeout // a probe waits up to the budget: probing faster only stacks probes
	if r.Timeout <= 0 || r.Timeout > maxRedisTimeout {
		v.fail("redis.timeout", "must be greater than 0 and at most %s, got %s", shortDuration(maxRedisTimeout), shortDuration(r.Timeout))
		floor = time.Nanosecond
	}
	if r.ProbeInterval < floor || r.ProbeInterval > maxRedisProbeInterval {
		v.fail("redis.probe_interval", "must be at least redis.timeout (%s) and at most %s, got %s",
			shortDuration(r.Timeout), shortDuration(maxRedisProbeInterval), shortDuration(r.ProbeInterval))
	}
}

func (v *validator) auth(a Auth, r Redis) {
	j := a.JWT
	for _, alg := range j.Algorithms {
		if !slices.Contains(JWTAlgorithms, alg) {
			v.fail("auth.jwt.algorithms", "%q is not allowed (use %s; \"none\" never is)", alg, strings.Join(JWTAlgorithms, ", "))
		}
	}
	if j.HMACSecret != "" && len(j.HMACSecret) < 32 {
		v.fail("auth.jwt.hmac_secret", "must be at least 32 bytes (256 bits, RFC 7518 §3.2), got %d", len(j.HMACSecret))
	}
	for _, u := range j.JWKSURLs {
		v.check("auth.jwt.jwks_urls", jwksURL(u))
	}
	v.positive("auth.jwt.jwks_refresh", j.JWKSRefresh)
	v.positive("auth.jwt.jwks_min_refetch", j.JWKSMinRefetch)
	v.nonNegative("auth.jwt.leeway", j.Leeway)
	if j.Leeway > 5*time.Minute {
		v.fail("auth.jwt.leeway", "must be at most 5m: clocks that far apart need fixing, not tolerating")
	}
	if j.MaxTokenSize < KiB {
		v.fail("auth.jwt.max_token_size", "must be at least 1KiB, got %s", j.MaxTokenSize)
	}
	if j.RolesClaim == "" {
		v.fail("auth.jwt.roles_claim", "must not be empty")
	}
	if j.Cookie != "" && !isToken(j.Cookie) {
		v.fail("auth.jwt.cookie", "%q is not a valid cookie name", j.Cookie)
	}
	if j.CacheSize < 0 {
		v.fail("auth.jwt.cache_size", "must not be negative")
	}
	for _, p := range a.PublicPaths {
		method, path, hasMethod := strings.Cut(p, " ")
		if !hasMethod {
			path = method
		}
		if hasMethod && !isToken(method) || !strings.HasPrefix(path, "/") {
			v.fail("auth.public_paths", "%q is neither \"METHOD /route\" nor \"/route\"", p)
		}
	}
	if a.Enabled() {
		if j.Issuer == "" {
			v.fail("auth.jwt.issuer", "must be set when authentication is on (a key source is configured)")
		}
		if len(j.Audience) == 0 {
			v.fail("auth.jwt.audience", "must list at least one audience when authentication is on")
		}
	}

	rv := a.Revocation
	v.oneOf("auth.revocation.store", rv.Store, "memory", "redis")
	v.oneOf("auth.revocation.missing_jti", rv.MissingJTI, "reject", "allow")
	if rv.MaxEntries < 1 {
		v.fail("auth.revocation.max_entries", "must be at least 1, got %d", rv.MaxEntries)
	}
	if rv.Enabled && rv.Store == "redis" && r.URL == "" {
		v.fail("auth.revocation.store", "\"redis\" needs redis.url")
	}

	cd := a.Cedar
	v.nonNegative("auth.cedar.reload_interval", cd.ReloadInterval)
	if cd.CacheSize < 0 {
		v.fail("auth.cedar.cache_size", "must not be negative")
	}
}

func (v *validator) resilience(rl RateLimit, r Resilience, redis Redis) {
	v.oneOf("rate_limit.store", rl.Store, "auto", "memory", "redis")
	if rl.Enabled && rl.Store == "redis" && redis.URL == "" {
		v.fail("rate_limit.store", "\"redis\" needs redis.url")
	}
	for key, n := range map[string]int{"rate_limit.per_ip_rpm": rl.PerIPRPM, "rate_limit.per_user_rpm": rl.PerUserRPM, "rate_limit.per_client_rpm": rl.PerClientRPM} {
		if n < 0 {
			v.fail(key, "must not be negative, got %d", n)
		}
	}
	for key, list := range map[string][]string{"rate_limit.routes": rl.Routes, "rate_limit.global": rl.Global} {
		for _, item := range list {
			if _, _, err := ParseRouteLimit(item); err != nil {
				v.check(key, err)
			}
		}
	}
	v.oneOf("rate_limit.redis_failure", rl.RedisFailure, "fallback", "allow", "deny")
	if rl.ExpectedInstances < 1 {
		v.fail("rate_limit.expected_instances", "must be at least 1, got %d", rl.ExpectedInstances)
	}
	if rl.LeaseSize < 0 {
		v.fail("rate_limit.lease_size", "must not be negative")
	}
	if rl.MaxKeys < 1 {
		v.fail("rate_limit.max_keys", "must be at least 1, got %d", rl.MaxKeys)
	}
	v.breaker("resilience.breaker", r.Breaker)
	v.breaker("resilience.client.breaker", r.Client.Breaker)
	if r.Bulkhead.MaxConcurrent < 0 {
		v.fail("resilience.bulkhead.max_concurrent", "must not be negative")
	}
	v.nonNegative("resilience.bulkhead.max_wait", r.Bulkhead.MaxWait)
	for _, g := range r.Bulkhead.Groups {
		if _, _, err := ParseGroupLimit(g); err != nil {
			v.check("resilience.bulkhead.groups", err)
		}
	}
	sh := r.Shedding
	if sh.MinLimit < 1 || sh.MinLimit > sh.InitialLimit || sh.InitialLimit > sh.MaxLimit {
		v.fail("resilience.shedding.initial_limit", "needs 1 <= min_limit (%d) <= initial_limit (%d) <= max_limit (%d)", sh.MinLimit, sh.InitialLimit, sh.MaxLimit)
	}
	c := r.Client
	v.positive("resilience.client.timeout", c.Timeout)
	if c.MaxRetries < 0 {
		v.fail("resilience.client.max_retries", "must not be negative")
	}
	v.positive("resilience.client.backoff_base", c.BackoffBase)
	if c.BackoffMax < c.BackoffBase {
		v.fail("resilience.client.backoff_max", "must not be less than resilience.client.backoff_base (%s)", shortDuration(c.BackoffBase))
	}
	if c.RetryBudget < 0 || c.RetryBudget > 1 || math.IsNaN(c.RetryBudget) {
		v.fail("resilience.client.retry_budget", "must be between 0 and 1, got %v", c.RetryBudget)
	}
	if c.MaxConcurrentPerHost < 0 {
		v.fail("resilience.client.max_concurrent_per_host", "must not be negative")
	}
}

func (v *validator) breaker(prefix string, b Breaker) {
	if !(b.FailureRatio > 0 && b.FailureRatio <= 1) {
		v.fail(prefix+".failure_ratio", "must be greater than 0 and at most 1, got %v", b.FailureRatio)
	}
	if b.MinRequests < 1 {
		v.fail(prefix+".min_requests", "must be at least 1, got %d", b.MinRequests)
	}
	v.positive(prefix+".interval", b.Interval)
	v.positive(prefix+".open_timeout", b.OpenTimeout)
	if b.HalfOpenRequests < 1 {
		v.fail(prefix+".half_open_requests", "must be at least 1, got %d", b.HalfOpenRequests)
	}
}

// ParseRouteLimit parses a rate_limit.routes or rate_limit.global entry,
// "METHOD /route/template=N": the route (method and template, as in
// auth.public_paths) and N requests per minute.
func ParseRouteLimit(s string) (route string, rpm int, err error) {
	route, n, ok := strings.Cut(s, "=")
	method, path, hasMethod := strings.Cut(strings.TrimSpace(route), " ")
	rpm, convErr := strconv.Atoi(strings.TrimSpace(n))
	if !ok || !hasMethod || !isToken(method) || !strings.HasPrefix(path, "/") || convErr != nil || rpm < 1 {
		return "", 0, fmt.Errorf("%q is not \"METHOD /route=requests-per-minute\" with a positive count", s)
	}
	return method + " " + path, rpm, nil
}

// ParseGroupLimit parses a resilience.bulkhead.groups entry, "group=N".
func ParseGroupLimit(s string) (group string, n int, err error) {
	group, count, ok := strings.Cut(s, "=")
	group = strings.TrimSpace(group)
	n, convErr := strconv.Atoi(strings.TrimSpace(count))
	if !ok || group == "" || convErr != nil || n < 1 {
		return "", 0, fmt.Errorf("%q is not \"group=max-concurrent\" with a positive count", s)
	}
	return group, n, nil
}

// jwksURL accepts https URLs, and http ones only on loopback: a key set
// fetched in the clear could be replaced on the way.
func jwksURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip, err := netip.ParseAddr(u.Hostname()); (err == nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("%q must be https (http only on loopback)", s)
}

// OverflowPolicies are the values of actors.overflow_policy.
var OverflowPolicies = []string{"block", "drop_newest", "drop_oldest", "reject"}

// Samplers are the values of telemetry.traces.sampler, as the
// OpenTelemetry specification spells them for OTEL_TRACES_SAMPLER.
var Samplers = []string{"always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

func (v *validator) telemetry(t Telemetry) {
	v.headerValue("telemetry.service_name", t.ServiceName)
	if _, err := ParsePairs(strings.Join(t.ResourceAttributes, ",")); err != nil {
		v.check("telemetry.resource_attributes", err)
	}
	v.positive("telemetry.shutdown_timeout", t.ShutdownTimeout)
	v.oneOf("telemetry.traces.exporter", t.Traces.Exporter, "none", "otlp")
	v.oneOf("telemetry.traces.sampler", t.Traces.Sampler, Samplers...)
	if t.Traces.SamplerArg < 0 || t.Traces.SamplerArg > 1 || math.IsNaN(t.Traces.SamplerArg) {
		v.fail("telemetry.traces.sampler_arg", "must be between 0 and 1, got %v", t.Traces.SamplerArg)
	}
	v.oneOf("telemetry.metrics.exporter", t.Metrics.Exporter, "none", "otlp")
	v.positive("telemetry.metrics.interval", t.Metrics.Interval)
	if t.Prometheus.Address != "" {
		v.check("telemetry.prometheus.address", hostPort(t.Prometheus.Address))
	}
	o := t.OTLP
	v.oneOf("telemetry.otlp.protocol", o.Protocol, "http/protobuf", "grpc")
	v.positive("telemetry.otlp.timeout", o.Timeout)
	if _, err := ParsePairs(o.Headers); err != nil {
		// The value is a secret: say what is wrong, never what it is.
		v.fail("telemetry.otlp.headers", "must be key=value pairs separated by commas")
	}
	switch {
	case o.Endpoint != "":
		v.check("telemetry.otlp.endpoint", otlpEndpoint(o.Endpoint, o.Protocol))
	case t.Traces.Exporter == "otlp" || t.Metrics.Exporter == "otlp":
		v.fail("telemetry.otlp.endpoint", "must be set when an exporter is \"otlp\"")
	}
}

// otlpEndpoint checks a collector address: an http(s) URL, or for gRPC also
// a bare host:port.
func otlpEndpoint(endpoint, protocol string) error {
	if protocol == "grpc" && !strings.Contains(endpoint, "://") {
		return hostPort(endpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", endpoint)
	}
	return nil
}

// ParsePairs parses the "key=value,key=value" lists of the OpenTelemetry
// variables (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS): keys are
// trimmed and must not be empty, values are URL-decoded. An empty string
// is an empty map.
func ParsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		k, val, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", item)
		}
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("the value of %q is not URL-encoded correctly", k)
		}
		out[k] = dec
	}
	return out, nil
}

// validator collects problems so that Validate reports all of them.
type validator struct{ errs Errors }

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Err: fmt.Errorf(format, args...)})
}

func (v *validator) check(key string, err error) {
	if err != nil {
		v.errs = append(v.errs, &Error{Key: key, Err: err})
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.fail(key, "must be greater than 0, got %s", shortDuration(d))
	}
}

func (v *validator) nonNegative(key string, d time.Duration) {
	if d < 0 {
		v.fail(key, "must not be negative, got %s", shortDuration(d))
	}
}

func (v *validator) oneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = strconv.Quote(a)
		}
		v.fail(key, "must be one of %s, got %q", strings.Join(quoted, ", "), value)
	}
}

// tokens checks a list of HTTP method or header names.
func (v *validator) tokens(key string, names []string) {
	for _, n := range names {
		if !isToken(n) {
			v.fail(key, "%q is not a valid HTTP token", n)
		}
	}
}

// headerValue rejects control characters, which would let a config value
// split or corrupt a response header.
func (v *validator) headerValue(key, value string) {
	if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		v.fail(key, "must not contain control characters")
	}
}

// compressionAlgorithms are the encodings the compression middleware
// implements.
var compressionAlgorithms = []string{"zstd", "br", "gzip", "deflate"}

func (v *validator) algorithms(algs []string) {
	const key = "compression.algorithms"
	if len(algs) == 0 {
		v.fail(key, "must list at least one of %s", strings.Join(compressionAlgorithms, ", "))
	}
	for i, a := range algs {
		switch {
		case !slices.Contains(compressionAlgorithms, a):
			v.fail(key, "unknown algorithm %q (use %s)", a, strings.Join(compressionAlgorithms, ", "))
		case slices.Contains(algs[:i], a):
			v.fail(key, "%q is listed twice", a)
		}
	}
}

// hostPort checks a listen address: host:port with a numeric port
// (0 picks a free one) and an optional host.
func hostPort(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(n, 10) != port {
		return fmt.Errorf("%q has an invalid port (want 0-65535)", addr)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, the grammar of method and
// header field names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
