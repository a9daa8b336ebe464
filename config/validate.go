package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks what belongs to the config itself: the shape of values
// (listen addresses, the "METHOD /route=N" specs, key=value lists), the
// relations between keys (a store on Redis needs redis.url; the write
// timeout must outlast the request timeout) and keys that have no "off"
// although their Go counterpart reads zero as "the default". The rules of a
// value a subsystem implements — its vocabulary, its ranges — live in that
// subsystem's package (DESIGN §2), and the service checks them during the
// same load (config.Loader.Check), each problem named by its key.
// Validate returns Errors naming each offending key, or nil. Load calls it
// and adds the source of each key.
func (c *Config) Validate() error {
	var v validator
	v.http(c.HTTP)
	if c.Admin.Address != "" {
		v.check("admin.address", hostPort(c.Admin.Address))
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")
	for _, f := range c.Log.RedactFields {
		if strings.TrimSpace(f) == "" {
			v.fail("log.redact_fields", "must not contain an empty name")
		}
	}
	v.positive("health.timeout", c.Health.Timeout)
	v.nonNegative("health.cache_ttl", c.Health.CacheTTL)
	if len(c.Compression.Algorithms) == 0 {
		// In Go an empty list means the default; a key cannot be emptied.
		v.fail("compression.algorithms", "must list at least one algorithm")
	}
	v.telemetry(c.Telemetry)
	v.redis(c.Redis)
	v.nats(c.NATS)
	v.auth(c.Auth, c.Redis)
	v.rateLimit(c.RateLimit, c.Redis)
	v.components(c.Actors.Components, c.Redis)
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

// http checks [http]: addresses, timeouts that have no "off", TLS pairs.
func (v *validator) http(h HTTP) {
	v.check("http.address", hostPort(h.Address))
	v.nonNegative("http.read_header_timeout", h.ReadHeaderTimeout)
	v.nonNegative("http.read_timeout", h.ReadTimeout)
	v.nonNegative("http.write_timeout", h.WriteTimeout)
	v.nonNegative("http.idle_timeout", h.IdleTimeout)
	if h.WriteTimeout > 0 && h.RequestTimeout > 0 && h.WriteTimeout <= h.RequestTimeout {
		v.fail("http.write_timeout", "must be greater than http.request_timeout (%s), or 0 to disable it, so a timed-out request still gets its error response", shortDuration(h.RequestTimeout))
	}
	if h.MaxHeaderBytes < KiB {
		v.fail("http.max_header_bytes", "must be at least 1KiB, got %s", h.MaxHeaderBytes)
	}
	v.positive("http.shutdown_timeout", h.ShutdownTimeout)
	v.nonNegative("http.drain_delay", h.DrainDelay)
	switch {
	case h.TLS.CertFile != "" && h.TLS.KeyFile == "":
		v.fail("http.tls.key_file", "must be set when http.tls.cert_file is")
	case h.TLS.KeyFile != "" && h.TLS.CertFile == "":
		v.fail("http.tls.cert_file", "must be set when http.tls.key_file is")
	}
	v.oneOf("http.tls.min_version", h.TLS.MinVersion, "1.2", "1.3")
}

// components checks [actors.components]: what the service itself does with
// the keys (counting components, picking the store).
func (v *validator) components(c Components, r Redis) {
	if c.MaxComponents < 1 {
		v.fail("actors.components.max_components", "must be at least 1, got %d", c.MaxComponents)
	}
	v.oneOf("actors.components.kv_store", c.KVStore, "auto", "memory", "redis", "nats")
	if c.KVStore == "redis" && r.URL == "" {
		v.fail("actors.components.kv_store", `is "redis" but redis.url is not set`)
	}
	if c.KVMaxKeys < 1 {
		v.fail("actors.components.kv_max_keys", "must be at least 1, got %d", c.KVMaxKeys)
	}
}

// nats checks [nats]: the shapes of its addresses and the one key the
// service itself reads. natsnode checks the rest (DESIGN §2).
func (v *validator) nats(n NATS) {
	v.positive("nats.connect_timeout", n.ConnectTimeout)
	if n.Listen != "" {
		v.check("nats.listen", hostPort(n.Listen))
	}
	if n.Cluster.Listen != "" {
		v.check("nats.cluster.listen", hostPort(n.Cluster.Listen))
	}
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

// auth checks [auth]: the shapes of its lists, the store and its Redis, and
// the keys whose Go counterparts read zero as "the default".
func (v *validator) auth(a Auth, r Redis) {
	j := a.JWT
	v.positive("auth.jwt.jwks_refresh", j.JWKSRefresh)
	v.positive("auth.jwt.jwks_min_refetch", j.JWKSMinRefetch)
	if j.MaxTokenSize <= 0 {
		v.fail("auth.jwt.max_token_size", "must be greater than 0, got %s", j.MaxTokenSize)
	}
	if j.RolesClaim == "" {
		v.fail("auth.jwt.roles_claim", "must not be empty")
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
	rv := a.Revocation
	v.oneOf("auth.revocation.store", rv.Store, "memory", "redis")
	if rv.Enabled && rv.Store == "redis" && r.URL == "" {
		v.fail("auth.revocation.store", "\"redis\" needs redis.url")
	}
	v.nonNegative("auth.cedar.reload_interval", a.Cedar.ReloadInterval)
}

// rateLimit checks [rate_limit]: the store and its Redis, and the sizes
// the stores read as "the default" at zero. The route specs were parsed
// when they loaded (RouteLimit).
func (v *validator) rateLimit(rl RateLimit, redis Redis) {
	v.oneOf("rate_limit.store", rl.Store, "auto", "memory", "redis")
	if rl.Enabled && rl.Store == "redis" && redis.URL == "" {
		v.fail("rate_limit.store", "\"redis\" needs redis.url")
	}
	if rl.LeaseSize < 0 {
		v.fail("rate_limit.lease_size", "must not be negative")
	}
	if rl.MaxKeys < 1 {
		v.fail("rate_limit.max_keys", "must be at least 1, got %d", rl.MaxKeys)
	}
}

// telemetry checks [telemetry]: the shapes of its lists and addresses,
// durations that have no "off", and an endpoint for an OTLP exporter. The
// vocabularies (exporters, samplers, protocols) and the sampler's ratio are
// the telemetry package's.
func (v *validator) telemetry(t Telemetry) {
	v.headerValue("telemetry.service_name", t.ServiceName)
	if _, err := ParsePairs(strings.Join(t.ResourceAttributes, ",")); err != nil {
		v.check("telemetry.resource_attributes", err)
	}
	v.positive("telemetry.shutdown_timeout", t.ShutdownTimeout)
	v.positive("telemetry.metrics.interval", t.Metrics.Interval)
	if t.Prometheus.Address != "" {
		v.check("telemetry.prometheus.address", hostPort(t.Prometheus.Address))
	}
	v.positive("telemetry.otlp.timeout", t.OTLP.Timeout)
	if _, err := ParsePairs(t.OTLP.Headers); err != nil {
		// The value is a secret: say what is wrong, never what it is.
		v.fail("telemetry.otlp.headers", "must be key=value pairs separated by commas")
	}
	if t.OTLP.Endpoint == "" && (t.Traces.Exporter == "otlp" || t.Metrics.Exporter == "otlp") {
		v.fail("telemetry.otlp.endpoint", "must be set when an exporter is \"otlp\"")
	}
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

// headerValue rejects control characters, which would let a config value
// split or corrupt a response header.
func (v *validator) headerValue(key, value string) {
	if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		v.fail(key, "must not contain control characters")
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
