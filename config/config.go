package config

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// Config is a Troupe service's configuration. Each field's koanf tag is its
// key; config.example.toml lists every key with its default, and
// docs/config.md explains each one.
type Config struct {
	// HTTP configures the public listener.
	HTTP HTTP `koanf:"http"`
	// Admin configures the private listener for detailed health, the effective config and pprof.
	Admin Admin `koanf:"admin"`
	// Log configures the process log and the access log.
	Log Log `koanf:"log"`
	// Health configures readiness checks.
	Health Health `koanf:"health"`
	// CORS configures the cross-origin allow-list.
	CORS CORS `koanf:"cors"`
	// SecurityHeaders configures the headers added to every response.
	SecurityHeaders SecurityHeaders `koanf:"security_headers"`
	// Compression configures response compression.
	Compression Compression `koanf:"compression"`
	// Versioning configures API version lifecycle enforcement.
	Versioning Versioning `koanf:"versioning"`
	// Telemetry configures OpenTelemetry traces and metrics and the
	// Prometheus endpoint.
	Telemetry Telemetry `koanf:"telemetry"`
	// Actors configures the actor system's defaults.
	Actors Actors `koanf:"actors"`
	// Auth configures JWT authentication and Cedar authorization.
	Auth Auth `koanf:"auth"`
	// Redis is the Redis server shared by the stores that can use one.
	Redis Redis `koanf:"redis"`
	// NATS is the service's NATS: embedded, clustered or external.
	NATS NATS `koanf:"nats"`
	// RateLimit configures request rate limits.
	RateLimit RateLimit `koanf:"rate_limit"`
	// Resilience configures circuit breakers, bulkheads, load shedding and
	// the outbound client.
	Resilience Resilience `koanf:"resilience"`
	// Realtime configures WebSocket and Server-Sent Events connections.
	Realtime Realtime `koanf:"realtime"`
	// Inspect configures the inspector and the ops console.
	Inspect Inspect `koanf:"inspect"`
}

// HTTP is the [http] section: the public listener and its limits.
type HTTP struct {
	// Address is the host:port to listen on; port 0 picks a free port.
	Address string `koanf:"address"`
	// ReadHeaderTimeout bounds reading request headers (slowloris defence).
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// WriteTimeout bounds writing a response; 0 disables it. When both it
	// and RequestTimeout are set it must exceed RequestTimeout, or the
	// connection would be cut before the handler's timeout response is sent.
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// MaxHeaderBytes caps the size of request headers; at least 1KiB.
	MaxHeaderBytes Size `koanf:"max_header_bytes"`
	// RequestTimeout is each handler's deadline; 0 disables it.
	RequestTimeout time.Duration `koanf:"request_timeout"`
	// BodyLimit caps request bodies (413 beyond it); 0 means unlimited.
	BodyLimit Size `koanf:"body_limit"`
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// DrainDelay is how long readiness reports 503 before the listener
	// closes, so load balancers stop routing first.
	DrainDelay time.Duration `koanf:"drain_delay"`
	// TrustedProxies lists the CIDRs or IPs whose Forwarded or X-Forwarded-For is
	// believed when finding the client IP; empty trusts none.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// TLS configures HTTPS on the public listener.
	TLS TLS `koanf:"tls"`
}

// TLS is the [http.tls] section. Serving TLS needs both files.
type TLS struct {
	// CertFile is the PEM certificate chain; set with KeyFile or not at all.
	CertFile string `koanf:"cert_file"`
	// KeyFile is the PEM private key; set with CertFile or not at all.
	KeyFile string `koanf:"key_file"`
	// MinVersion is the oldest TLS version accepted: "1.2" or "1.3".
	MinVersion string `koanf:"min_version"`
}

// Enabled reports whether the public listener serves TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" && t.KeyFile != "" }

// MinVersionID returns MinVersion as a crypto/tls constant for
// tls.Config.MinVersion.
func (t TLS) MinVersionID() uint16 {
	if t.MinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// Admin is the [admin] section: the private listener.
type Admin struct {
	// Address is the host:port of the admin listener; "" disables it. It
	// defaults to loopback because it exposes internals.
	Address string `koanf:"address"`
	// Pprof mounts net/http/pprof under /debug/pprof on the admin listener.
	Pprof bool `koanf:"pprof"`
}

// Log is the [log] section.
type Log struct {
	// Level is the minimum level logged: debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is the log encoding: json or text.
	Format string `koanf:"format"`
	// Access logs one line per request.
	Access bool `koanf:"access"`
	// Headers adds request headers to access log lines (sensitive ones
	// masked).
	Headers bool `koanf:"headers"`
	// RedactHeaders names extra headers to mask in the access log, beyond
	// the built-in list (Authorization, Cookie, ...).
	RedactHeaders []string `koanf:"redact_headers"`
	// RedactFields names log attributes whose values are replaced by
	// "[REDACTED]" in every record, at any group depth.
	RedactFields []string `koanf:"redact_fields"`
}

// SlogLevel returns Level as a slog.Level; an unrecognised level (which
// Validate rejects) means info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Health is the [health] section.
type Health struct {
	// Timeout bounds each readiness check.
	Timeout time.Duration `koanf:"timeout"`
	// CacheTTL is how long a readiness result is reused, so frequent probes
	// do not hammer dependencies; 0 checks on every probe.
	CacheTTL time.Duration `koanf:"cache_ttl"`
}

// CORS is the [cors] section. Origins are checked by the CORS middleware.
type CORS struct {
	// AllowOrigins lists the origins allowed cross-origin access; empty
	// allows none.
	AllowOrigins []string `koanf:"allow_origins"`
	// AllowMethods lists the methods a preflight may approve.
	AllowMethods []string `koanf:"allow_methods"`
	// AllowHeaders lists the request headers a preflight may approve.
	AllowHeaders []string `koanf:"allow_headers"`
	// ExposeHeaders lists the response headers scripts may read.
	ExposeHeaders []string `koanf:"expose_headers"`
	// AllowCredentials lets cross-origin requests carry cookies and
	// credentials.
	AllowCredentials bool `koanf:"allow_credentials"`
	// MaxAge is how long browsers may cache a preflight answer.
	MaxAge time.Duration `koanf:"max_age"`
}

// SecurityHeaders is the [security_headers] section.
type SecurityHeaders struct {
	// Enabled adds the headers below to every response.
	Enabled bool `koanf:"enabled"`
	// HSTSMaxAge is the Strict-Transport-Security max-age; 0 omits the
	// header.
	HSTSMaxAge time.Duration `koanf:"hsts_max_age"`
	// HSTSIncludeSubdomains adds includeSubDomains to Strict-Transport-Security.
	HSTSIncludeSubdomains bool `koanf:"hsts_include_subdomains"`
	// HSTSPreload adds preload to Strict-Transport-Security.
	HSTSPreload bool `koanf:"hsts_preload"`
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff.
	ContentTypeNosniff bool `koanf:"content_type_nosniff"`
	// FrameOptions is X-Frame-Options: DENY, SAMEORIGIN, or "" to omit it.
	FrameOptions string `koanf:"frame_options"`
	// ContentSecurityPolicy is the Content-Security-Policy; "" omits it.
	ContentSecurityPolicy string `koanf:"content_security_policy"`
	// ReferrerPolicy is the Referrer-Policy; "" omits it.
	ReferrerPolicy string `koanf:"referrer_policy"`
}

// Compression is the [compression] section.
type Compression struct {
	// Enabled compresses responses for clients that accept it.
	Enabled bool `koanf:"enabled"`
	// MinSize is the smallest response compressed; smaller ones cost more
	// to compress than they save.
	MinSize Size `koanf:"min_size"`
	// Algorithms lists the encodings offered, most preferred first: a
	// non-empty subset of zstd, br, gzip and deflate.
	Algorithms []string `koanf:"algorithms"`
}

// Versioning is the [versioning] section.
type Versioning struct {
	// EnforceSunset answers 410 Gone for a deprecated version after its
	// sunset date; false keeps serving it.
	EnforceSunset bool `koanf:"enforce_sunset"`
}

// Telemetry is the [telemetry] section. Several keys also answer to the
// standard OpenTelemetry variable named in their env tag, which ranks
// between the config files and the service's own variables.
type Telemetry struct {
	// ServiceName is the service.name resource attribute; "" means the
	// service's name.
	ServiceName string `koanf:"service_name" env:"OTEL_SERVICE_NAME"`
	// ResourceAttributes are extra resource attributes, "key=value" each.
	ResourceAttributes []string `koanf:"resource_attributes" env:"OTEL_RESOURCE_ATTRIBUTES"`
	// ShutdownTimeout bounds flushing spans and metrics at shutdown.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// Traces configures tracing.
	Traces Traces `koanf:"traces"`
	// Metrics configures the OTLP push of metrics.
	Metrics Metrics `koanf:"metrics"`
	// Prometheus configures the pull endpoint for metrics.
	Prometheus Prometheus `koanf:"prometheus"`
	// OTLP configures the exporters' connection to a collector.
	OTLP OTLP `koanf:"otlp"`
}

// Traces is the [telemetry.traces] section.
type Traces struct {
	// Exporter is "otlp" to export spans, or "none": then no span is
	// recorded and tracing costs next to nothing.
	Exporter string `koanf:"exporter" env:"OTEL_TRACES_EXPORTER"`
	// Sampler decides which new traces are recorded: always_on,
	// always_off, traceidratio, or the parentbased_ forms of these, which
	// follow an incoming traceparent's decision.
	Sampler string `koanf:"sampler" env:"OTEL_TRACES_SAMPLER"`
	// SamplerArg is the ratio (0 to 1) of the traceidratio samplers.
	SamplerArg float64 `koanf:"sampler_arg" env:"OTEL_TRACES_SAMPLER_ARG"`
}

// Metrics is the [telemetry.metrics] section.
type Metrics struct {
	// Exporter is "otlp" to push metrics to the collector, or "none".
	Exporter string `koanf:"exporter" env:"OTEL_METRICS_EXPORTER"`
	// Interval is the period between two pushes.
	Interval time.Duration `koanf:"interval" env:"OTEL_METRIC_EXPORT_INTERVAL,ms"`
}

// Prometheus is the [telemetry.prometheus] section.
type Prometheus struct {
	// Enabled serves /metrics in the Prometheus exposition format on the
	// admin listener.
	Enabled bool `koanf:"enabled"`
	// Address, when set, also serves /metrics alone on a plaintext listener
	// of its own, for scrapers that cannot reach the admin listener.
	Address string `koanf:"address"`
}

// OTLP is the [telemetry.otlp] section.
type OTLP struct {
	// Endpoint is the collector's URL (http/protobuf: "http://host:4318";
	// grpc: "http://host:4317" or "host:4317"). Required by an otlp exporter.
	Endpoint string `koanf:"endpoint" env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// Protocol is "http/protobuf" or "grpc".
	Protocol string `koanf:"protocol" env:"OTEL_EXPORTER_OTLP_PROTOCOL"`
	// Headers are sent with every export, "key=value" pairs separated by
	// commas, values URL-encoded; typically an API key, hence secret.
	Headers string `koanf:"headers" env:"OTEL_EXPORTER_OTLP_HEADERS" secret:"true"`
	// Insecure sends over plaintext (no TLS) to an endpoint without a scheme.
	Insecure bool `koanf:"insecure" env:"OTEL_EXPORTER_OTLP_INSECURE"`
	// Timeout bounds each export.
	Timeout time.Duration `koanf:"timeout" env:"OTEL_EXPORTER_OTLP_TIMEOUT,ms"`
}

// Actors is the [actors] section: defaults for every actor the service
// spawns; a spawn option overrides them for one actor.
type Actors struct {
	// MessageQueueSize bounds each actor's mailbox.
	MessageQueueSize int `koanf:"message_queue_size"`
	// OverflowPolicy is what a full mailbox does with one more message:
	// block (the sender waits, up to BlockTimeout or its deadline),
	// drop_newest, drop_oldest or reject.
	OverflowPolicy string `koanf:"overflow_policy"`
	// BlockTimeout bounds how long a blocked sender without a deadline
	// waits for room.
	BlockTimeout time.Duration `koanf:"block_timeout"`
	// ShutdownTimeout bounds stopping every actor at shutdown, mailboxes
	// drained; what is left then becomes dead letters.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// MaxRestarts and RestartWindow are the restart intensity: more than
	// MaxRestarts failures within RestartWindow and a supervisor gives up
	// on the actor and escalates.
	MaxRestarts   int           `koanf:"max_restarts"`
	RestartWindow time.Duration `koanf:"restart_window"`
	// BackoffMin and BackoffMax bound the delay before a restart, which
	// doubles with each failure inside the window.
	BackoffMin time.Duration `koanf:"backoff_min"`
	BackoffMax time.Duration `koanf:"backoff_max"`
	// Components configures the WASM component runtime.
	Components Components `koanf:"components"`
	// Cluster joins the actor system to the service's other nodes over
	// NATS.
	Cluster ActorsCluster `koanf:"cluster"`
	// Sharding configures the leases that give a name one owner in the
	// cluster.
	Sharding ActorsSharding `koanf:"sharding"`
}

// ActorsCluster is the [actors.cluster] section: actors across nodes
// (docs/cluster.md).
type ActorsCluster struct {
	// Enabled joins the actor system to the cluster of this service's
	// nodes over NATS (embedded unless nats.url is set): names are unique
	// cluster-wide, Lookup and actor routes reach actors on every node,
	// pub/sub crosses nodes.
	Enabled bool `koanf:"enabled"`
	// JoinTimeout bounds joining at start-up, which waits for JetStream
	// to place the cluster's lease buckets (every replica's server up).
	JoinTimeout time.Duration `koanf:"join_timeout"`
}

// ActorsSharding is the [actors.sharding] section.
type ActorsSharding struct {
	// LeaseTTL is how long a name, and a node's membership, outlive the
	// last renewal (every LeaseTTL/3): how long a crashed node's names
	// stay taken.
	LeaseTTL time.Duration `koanf:"lease_ttl"`
	// IdleTimeout is how long a sharded entity (service.WithEntity) stays
	// active without a message before it is passivated: stopped, its stop
	// hook run, its lease released.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
}

// Components is the [actors.components] section: limits and behaviour for
// every WASM component the service loads (each component's own limits are
// in its Component.toml).
type Components struct {
	// Dir holds one subdirectory per component, each with a
	// Component.toml. Empty loads none; service.WithComponents sets the
	// application's default.
	Dir string `koanf:"dir"`
	// MaxComponents bounds how many components Dir may hold.
	MaxComponents int `koanf:"max_components"`
	// MaxMemoryMB caps any component's runtime.max_memory_mb.
	MaxMemoryMB int `koanf:"max_memory_mb"`
	// MaxMessageBytes bounds a message into a component and every payload
	// a component hands to the host.
	MaxMessageBytes int `koanf:"max_message_bytes"`
	// MaxReplyBytes bounds a component's reply and every result the host
	// hands back to it.
	MaxReplyBytes int `koanf:"max_reply_bytes"`
	// CacheDir holds the compiled-module cache and dev builds; empty means
	// $XDG_CACHE_HOME/<service>/components.
	CacheDir string `koanf:"cache_dir"`
	// BuildMissing builds a component whose module is missing from its Go
	// source (dev mode). Production ships the .wasm and sets it false.
	BuildMissing bool `koanf:"build_missing"`
	// WarmInstances is how many initialised instances are kept ready per
	// component, so a spawn or restart does not wait for instantiation.
	WarmInstances int `koanf:"warm_instances"`
	// ReloadInterval is how often manifests and modules are checked for
	// changes to hot-reload; 0 turns hot reload off.
	ReloadInterval time.Duration `koanf:"reload_interval"`
	// KVStore backs the components' key-value state: "memory", "redis"
	// (redis.url), "nats" (a JetStream KV bucket on the service's NATS,
	// embedded unless nats.url is set), or "auto": nats when NATS is on
	// for another reason (nats.url, nats.cluster.listen, WithNATS), else
	// redis when redis.url is set, else memory.
	KVStore string `koanf:"kv_store"`
	// KVMaxKeys bounds the memory KV store; a full store refuses writes.
	KVMaxKeys int `koanf:"kv_max_keys"`
}

// Auth is the [auth] section. Authentication is on as soon as a key source
// is configured (auth.jwt.hmac_secret, public_key_files or jwks_urls); then
// every route is protected unless the API marks it Public or it is listed in
// PublicPaths.
type Auth struct {
	// PublicPaths lists routes open without a token: "GET /api/v2/notes"
	// (one method) or "/api/v2/docs" (every method), by route template.
	PublicPaths []string `koanf:"public_paths"`
	// JWT configures token verification.
	JWT JWT `koanf:"jwt"`
	// Revocation configures the revoked-token (jti) check.
	Revocation Revocation `koanf:"revocation"`
	// Cedar configures authorization policies.
	Cedar Cedar `koanf:"cedar"`
}

// Enabled reports whether a key source is configured, which turns
// authentication on.
func (a Auth) Enabled() bool {
	return a.JWT.HMACSecret != "" || len(a.JWT.PublicKeyFiles) > 0 || len(a.JWT.JWKSURLs) > 0
}

// JWT is the [auth.jwt] section.
type JWT struct {
	// Algorithms is the allow-list of signature algorithms; empty means
	// every algorithm the configured keys can verify. "none" is never
	// accepted, and each algorithm must also match its key's type.
	Algorithms []string `koanf:"algorithms"`
	// HMACSecret is the shared secret for HS256/384/512, at least 32 bytes.
	HMACSecret string `koanf:"hmac_secret" secret:"true"`
	// PublicKeyFiles are PEM files of RSA, ECDSA or Ed25519 public keys (or
	// certificates); a key's kid is its file name without extension.
	PublicKeyFiles []string `koanf:"public_key_files"`
	// JWKSURLs are JWK Set URLs (https, or http on loopback), fetched at
	// start and refreshed in the background.
	JWKSURLs []string `koanf:"jwks_urls"`
	// JWKSRefresh is the period of the background refresh.
	JWKSRefresh time.Duration `koanf:"jwks_refresh"`
	// JWKSMinRefetch is the least time between two fetches triggered by an
	// unknown kid, so forged kids cannot make the service hammer the IdP.
	JWKSMinRefetch time.Duration `koanf:"jwks_min_refetch"`
	// Issuer is the required iss claim.
	Issuer string `koanf:"issuer"`
	// Audience lists accepted aud values; a token must name one of them.
	Audience []string `koanf:"audience"`
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	Leeway time.Duration `koanf:"leeway"`
	// RequiredClaims are claims every token must carry (exp always is).
	RequiredClaims []string `koanf:"required_claims"`
	// MaxTokenSize caps the token's length; longer ones are rejected unread.
	MaxTokenSize Size `koanf:"max_token_size"`
	// RolesClaim names the claim holding the principal's roles.
	RolesClaim string `koanf:"roles_claim"`
	// Cookie, when set, names a cookie the token may come in when there is
	// no Authorization header.
	Cookie string `koanf:"cookie"`
	// CacheSize bounds the verified-token cache; 0 disables it.
	CacheSize int `koanf:"cache_size"`
}

// Revocation is the [auth.revocation] section.
type Revocation struct {
	// Enabled checks every token's jti against the revocation store.
	Enabled bool `koanf:"enabled"`
	// Store is "memory" (this process) or "redis" (redis.url, shared).
	Store string `koanf:"store"`
	// MissingJTI is what happens to a token without jti while revocation is
	// on: "reject" or "allow".
	MissingJTI string `koanf:"missing_jti"`
	// MaxEntries bounds the memory store.
	MaxEntries int `koanf:"max_entries"`
}

// Cedar is the [auth.cedar] section.
type Cedar struct {
	// Policies is a .cedar file or a directory of them; "" turns
	// authorization off (authenticated principals may call every route).
	Policies string `koanf:"policies"`
	// ReloadInterval is how often the files are checked for changes; 0
	// loads them once.
	ReloadInterval time.Duration `koanf:"reload_interval"`
	// CacheSize bounds the decision cache; 0 disables it.
	CacheSize int `koanf:"cache_size"`
}

// Redis is the [redis] section.
type Redis struct {
	// URL is the server, "redis://[:password@]host:port/db" or rediss://
	// for TLS; "" means no Redis. A secret, as it may hold a password.
	URL string `koanf:"url" secret:"true"`
	// Timeout is the budget of one Redis command on the request path (a
	// rate-limit decision, a revocation lookup, a component's kv call):
	// dialing, waiting for a pooled connection, writing and reading
	// together, with no retry. A command that overruns it fails, and the
	// store's failure policy decides.
	Timeout time.Duration `koanf:"timeout"`
	// ProbeInterval is how often Redis is PINGed once it has stopped
	// answering; until a PING is answered every command fails at once.
	ProbeInterval time.Duration `koanf:"probe_interval"`
}

// NATS is the [nats] section. NATS starts only when something uses it:
// URL is set, the embedded cluster is configured (Cluster.Listen), a
// feature that needs it is on, or the application asked (WithNATS). With
// URL empty the service runs an embedded nats-server in-process; the
// credentials and TLS keys apply to an external one, the server and
// cluster keys to the embedded one, and a key of the other kind is an
// error.
type NATS struct {
	// URL lists the external NATS servers, comma-separated; "" means the
	// embedded server. A secret, as it may carry credentials.
	URL string `koanf:"url" secret:"true"`
	// Optional makes NATS a soft dependency: start-up does not wait for an
	// external NATS, and readiness warns rather than fails while the
	// connection is down.
	Optional bool `koanf:"optional"`
	// ConnectTimeout is how long start-up waits for the first connection
	// to an external NATS, and for JetStream to hold the buckets the
	// service opens, when Optional is false; past it the service does not
	// start.
	ConnectTimeout time.Duration `koanf:"connect_timeout"`
	// Name is the connection's name in the server's monitoring; "" means
	// the service's name.
	Name string `koanf:"name"`
	// Token authenticates to an external NATS by token.
	Token string `koanf:"token" secret:"true"`
	// User and Password authenticate by user name and password.
	User     string `koanf:"user"`
	Password string `koanf:"password" secret:"true"`
	// NkeySeed is a user NKey seed ("SU..."); typically from nkey_seed_file.
	NkeySeed string `koanf:"nkey_seed" secret:"true"`
	// Creds is the contents of a .creds file (user JWT and seed); typically
	// from creds_file.
	Creds string `koanf:"creds" secret:"true"`
	// TLS configures TLS to an external NATS.
	TLS NATSTLS `koanf:"tls"`
	// MaxPayload is the largest message; the embedded server enforces it,
	// an external server's own limit applies too.
	MaxPayload Size `koanf:"max_payload"`
	// Listen opens a loopback client port on the embedded server for tools
	// (the nats CLI); "" opens none.
	Listen string `koanf:"listen"`
	// ServerName names the embedded server; unique and stable in a cluster.
	// "" means host name and route port in a cluster, a random ID alone.
	ServerName string `koanf:"server_name"`
	// JetStream configures JetStream storage.
	JetStream NATSJetStream `koanf:"jetstream"`
	// Cluster joins embedded servers over routes.
	Cluster NATSCluster `koanf:"cluster"`
}

// NATSTLS is the [nats.tls] section. Setting a file, or a tls:// URL,
// requires TLS.
type NATSTLS struct {
	// CAFile is the PEM bundle that signs the server's certificate; ""
	// trusts the system's roots.
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are the client certificate and key; both or
	// neither.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// MinVersion is the oldest TLS version accepted: "1.2" or "1.3".
	MinVersion string `koanf:"min_version"`
}

// NATSJetStream is the [nats.jetstream] section.
type NATSJetStream struct {
	// Store is "file" or "memory": where buckets the service creates keep
	// their data, and whether the embedded server writes to Dir.
	Store string `koanf:"store"`
	// Dir is the embedded server's data directory; "" means
	// $XDG_STATE_HOME/<service>/nats.
	Dir string `koanf:"dir"`
}

// NATSCluster is the [nats.cluster] section: embedded servers of several
// processes forming one NATS cluster.
type NATSCluster struct {
	// Listen is the host:port routes are accepted on; "" means no cluster.
	Listen string `koanf:"listen"`
	// Routes are every node's route URL, this one's included
	// ("nats://10.0.0.1:6222").
	Routes []string `koanf:"routes"`
	// Name is the cluster's name, the same on every node; "" means the
	// service's name.
	Name string `koanf:"name"`
	// User and Password, when set, are required of every route.
	User     string `koanf:"user"`
	Password string `koanf:"password" secret:"true"`
}

// RateLimit is the [rate_limit] section. Limits are requests per minute
// with a burst of a whole minute's quota (GCRA).
type RateLimit struct {
	// Enabled turns rate limiting on.
	Enabled bool `koanf:"enabled"`
	// Store is "memory" (this instance), "redis" (redis.url, one limit
	// shared by every instance), or "auto": redis when redis.url is set.
	Store string `koanf:"store"`
	// PerIPRPM limits unauthenticated requests per client IP; 0 = none.
	PerIPRPM int `koanf:"per_ip_rpm"`
	// PerUserRPM limits each authenticated user; 0 = none.
	PerUserRPM int `koanf:"per_user_rpm"`
	// PerClientRPM limits each authenticated client or service; 0 = none.
	PerClientRPM int `koanf:"per_client_rpm"`
	// Routes override the per-caller limit of a route: "POST /api/v2/notes=10".
	Routes []RouteLimit `koanf:"routes"`
	// Global limits a route for all callers together: "GET /api/v2/search=1000".
	Global []RouteLimit `koanf:"global"`
	// RedisFailure is what happens while Redis cannot answer: "fallback"
	// (a local limit of the limit / ExpectedInstances), "allow" or "deny".
	RedisFailure string `koanf:"redis_failure"`
	// ExpectedInstances is how many instances share the Redis limits; the
	// fallback divides each limit by it.
	ExpectedInstances int `koanf:"expected_instances"`
	// LeaseSize, when > 0, makes each instance take tokens from Redis in
	// batches of this size, cutting Redis calls at the cost of a bounded
	// over-admission.
	LeaseSize int `koanf:"lease_size"`
	// MaxKeys bounds the keys the memory store tracks; idle ones are evicted
	// first.
	MaxKeys int `koanf:"max_keys"`
}

// Realtime is the [realtime] section: the limits of the process's
// WebSocket and SSE connections. The rules of each value are
// realtime.Config's (docs/realtime.md).
type Realtime struct {
	// MaxConnections bounds the open connections of the process.
	MaxConnections int `koanf:"max_connections"`
	// MaxConnectionsPerPrincipal bounds one principal's connections (one
	// client IP's when anonymous).
	MaxConnectionsPerPrincipal int `koanf:"max_connections_per_principal"`
	// MaxMessageSize bounds one inbound message.
	MaxMessageSize Size `koanf:"max_message_size"`
	// InboundRate is the messages per second one connection may send.
	InboundRate int `koanf:"inbound_rate"`
	// OutboundQueue bounds the messages waiting to be written to one
	// connection.
	OutboundQueue int `koanf:"outbound_queue"`
	// SlowConsumer is the policy for a full outbound queue: disconnect or
	// drop_oldest.
	SlowConsumer string `koanf:"slow_consumer"`
	// PingInterval is how long a connection may be quiet before the server
	// pings it.
	PingInterval time.Duration `koanf:"ping_interval"`
	// IdleTimeout closes a connection silent (or unwritable) this long.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds the wait for clients to close at shutdown.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// Compression lets clients negotiate permessage-deflate.
	Compression bool `koanf:"compression"`
}

// Resilience is the [resilience] section.
type Resilience struct {
	// Breaker configures the inbound circuit breaker of each route group.
	Breaker Breaker `koanf:"breaker"`
	// Bulkhead configures the concurrency limit of each route group.
	Bulkhead Bulkhead `koanf:"bulkhead"`
	// Shedding configures adaptive load shedding.
	Shedding Shedding `koanf:"shedding"`
	// Client configures svc.Client, the outbound client.
	Client Client `koanf:"client"`
}

// Breaker is a circuit breaker's settings.
type Breaker struct {
	// Enabled turns the breaker on.
	Enabled bool `koanf:"enabled"`
	// FailureRatio trips the breaker when this share of requests fail (5xx
	// or timeouts; never 4xx)...
	FailureRatio float64 `koanf:"failure_ratio"`
	// MinRequests ...once at least this many were counted in Interval.
	MinRequests int `koanf:"min_requests"`
	// Interval is the window the counts are kept for while closed.
	Interval time.Duration `koanf:"interval"`
	// OpenTimeout is how long an open breaker refuses before letting
	// probes through (half-open).
	OpenTimeout time.Duration `koanf:"open_timeout"`
	// HalfOpenRequests is how many probes a half-open breaker admits.
	HalfOpenRequests int `koanf:"half_open_requests"`
}

// Bulkhead is the [resilience.bulkhead] section.
type Bulkhead struct {
	// MaxConcurrent bounds the requests a route group serves at once; 0
	// turns bulkheads off.
	MaxConcurrent int `koanf:"max_concurrent"`
	// MaxWait is how long a request may queue for a slot before a 503.
	MaxWait time.Duration `koanf:"max_wait"`
	// Groups override MaxConcurrent for a group: "payments=10".
	Groups []GroupLimit `koanf:"groups"`
}

// Shedding is the [resilience.shedding] section.
type Shedding struct {
	// Enabled turns adaptive load shedding on.
	Enabled bool `koanf:"enabled"`
	// InitialLimit, MinLimit and MaxLimit bound the adaptive concurrency
	// limit.
	InitialLimit int `koanf:"initial_limit"`
	MinLimit     int `koanf:"min_limit"`
	MaxLimit     int `koanf:"max_limit"`
}

// Client is the [resilience.client] section.
type Client struct {
	// Timeout bounds each attempt.
	Timeout time.Duration `koanf:"timeout"`
	// MaxRetries is the most retries of one request.
	MaxRetries int `koanf:"max_retries"`
	// BackoffBase and BackoffMax bound the exponential backoff with full
	// jitter between attempts.
	BackoffBase time.Duration `koanf:"backoff_base"`
	BackoffMax  time.Duration `koanf:"backoff_max"`
	// RetryBudget caps retries at this share of requests, so retries
	// cannot multiply the load on a failing dependency.
	RetryBudget float64 `koanf:"retry_budget"`
	// MaxConcurrentPerHost bounds requests in flight to one host; 0 = none.
	MaxConcurrentPerHost int `koanf:"max_concurrent_per_host"`
	// Breaker is the per-host circuit breaker.
	Breaker Breaker `koanf:"breaker"`
}

// Inspect is the [inspect] section: the inspector, which records sampled
// message events and detects request cycles, and its console.
type Inspect struct {
	// Mode is off, production (traces 1% of messages), analysis (10%) or
	// development (every message).
	Mode string `koanf:"mode"`
	// SamplingRate, 0 to 1, overrides the mode's rate; 0 keeps it.
	SamplingRate float64 `koanf:"sampling_rate"`
	// Adaptive lowers the rate when recording costs too much.
	Adaptive InspectAdaptive `koanf:"adaptive"`
	// MaxEvents bounds the events kept.
	MaxEvents int `koanf:"max_events"`
	// MaxActors bounds the actors whose figures are kept.
	MaxActors int `koanf:"max_actors"`
	// Retention is how long events and idle actors' figures are kept.
	Retention time.Duration `koanf:"retention"`
	// DetectCycles watches actors' requests for request cycles.
	DetectCycles bool `koanf:"detect_cycles"`
	// FailCycles fails the request closing a cycle with actors.ErrCycle.
	FailCycles bool `koanf:"fail_cycles"`
	// Console configures /console and /inspect/ on the admin listener.
	Console InspectConsole `koanf:"console"`
}

// InspectAdaptive is the [inspect.adaptive] section.
type InspectAdaptive struct {
	// Enabled turns the adaptive sampler on.
	Enabled bool `koanf:"enabled"`
	// MinRate and MaxRate bound the rate it picks.
	MinRate float64 `koanf:"min_rate"`
	MaxRate float64 `koanf:"max_rate"`
	// OverheadTarget is the share of the actors' processing time recording
	// may cost (0.02 is 2%).
	OverheadTarget float64 `koanf:"overhead_target"`
	// Interval is how often it measures and adjusts.
	Interval time.Duration `koanf:"interval"`
}

// InspectConsole is the [inspect.console] section.
type InspectConsole struct {
	// Enabled serves the console and the JSON API on the admin listener.
	Enabled bool `koanf:"enabled"`
	// Auth is "none", "bearer" (Token) or "basic" (Username, Password).
	Auth string `koanf:"auth"`
	// Token is the bearer token, at least 16 characters.
	Token string `koanf:"token" secret:"true"`
	// Username and Password are the basic-auth credentials.
	Username string `koanf:"username"`
	Password string `koanf:"password" secret:"true"`
	// MaxClients bounds the consoles receiving live updates at once.
	MaxClients int `koanf:"max_clients"`
}

// Default returns the configuration used when no source sets a key. Every
// call returns fresh slices, so callers may modify the result.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Address:           ":8080",
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 * KiB,
			RequestTimeout:    30 * time.Second,
			BodyLimit:         4 * MiB,
			ShutdownTimeout:   30 * time.Second,
			DrainDelay:        5 * time.Second,
			TrustedProxies:    []string{},
			TLS:               TLS{MinVersion: "1.2"},
		},
		Admin: Admin{Address: "127.0.0.1:9090"},
		Log:   Log{Level: "info", Format: "json", Access: true, RedactHeaders: []string{}, RedactFields: []string{}},
		Health: Health{
			Timeout:  2 * time.Second,
			CacheTTL: time.Second,
		},
		CORS: CORS{
			AllowOrigins:  []string{},
			AllowMethods:  []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
			AllowHeaders:  []string{"Authorization", "Content-Type", "X-Request-ID"},
			ExposeHeaders: []string{"X-Request-ID", "Location", "Deprecation", "Sunset", "Link", "Retry-After"},
			MaxAge:        10 * time.Minute,
		},
		SecurityHeaders: SecurityHeaders{
			Enabled:               true,
			HSTSMaxAge:            8760 * time.Hour,
			HSTSIncludeSubdomains: true,
			ContentTypeNosniff:    true,
			FrameOptions:          "DENY",
			ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
			ReferrerPolicy:        "no-referrer",
		},
		Compression: Compression{
			Enabled:    true,
			MinSize:    KiB,
			Algorithms: []string{"zstd", "br", "gzip", "deflate"},
		},
		Versioning: Versioning{EnforceSunset: true},
		Telemetry: Telemetry{
			ResourceAttributes: []string{},
			ShutdownTimeout:    5 * time.Second,
			Traces:             Traces{Exporter: "none", Sampler: "parentbased_traceidratio", SamplerArg: 1},
			Metrics:            Metrics{Exporter: "none", Interval: time.Minute},
			Prometheus:         Prometheus{Enabled: true},
			OTLP:               OTLP{Protocol: "http/protobuf", Timeout: 10 * time.Second},
		},
		Actors: Actors{
			MessageQueueSize: 1024,
			OverflowPolicy:   "block",
			BlockTimeout:     time.Second,
			ShutdownTimeout:  10 * time.Second,
			MaxRestarts:      10,
			RestartWindow:    10 * time.Second,
			BackoffMin:       time.Millisecond,
			BackoffMax:       time.Second,
			Components: Components{
				MaxComponents:   64,
				MaxMemoryMB:     512,
				MaxMessageBytes: 1 << 20,
				MaxReplyBytes:   1 << 20,
				BuildMissing:    true,
				WarmInstances:   1,
				ReloadInterval:  2 * time.Second,
				KVStore:         "auto",
				KVMaxKeys:       100_000,
			},
			Cluster:  ActorsCluster{JoinTimeout: 2 * time.Minute},
			Sharding: ActorsSharding{LeaseTTL: 10 * time.Second, IdleTimeout: 2 * time.Minute},
		},
		Auth: Auth{
			PublicPaths: []string{},
			JWT: JWT{
				Algorithms:     []string{},
				PublicKeyFiles: []string{},
				JWKSURLs:       []string{},
				JWKSRefresh:    15 * time.Minute,
				JWKSMinRefetch: 30 * time.Second,
				Audience:       []string{},
				Leeway:         30 * time.Second,
				RequiredClaims: []string{"exp", "sub"},
				MaxTokenSize:   8 * KiB,
				RolesClaim:     "roles",
				CacheSize:      10000,
			},
			Revocation: Revocation{Store: "memory", MissingJTI: "reject", MaxEntries: 100000},
			Cedar:      Cedar{ReloadInterval: 5 * time.Second, CacheSize: 10000},
		},
		Redis: Redis{Timeout: 50 * time.Millisecond, ProbeInterval: time.Second},
		NATS: NATS{
			ConnectTimeout: 10 * time.Second,
			MaxPayload:     MiB,
			TLS:            NATSTLS{MinVersion: "1.2"},
			JetStream:      NATSJetStream{Store: "file"},
			Cluster:        NATSCluster{Routes: []string{}},
		},
		RateLimit: RateLimit{
			Store: "auto", PerIPRPM: 60, PerUserRPM: 600, PerClientRPM: 1200,
			Routes: []RouteLimit{}, Global: []RouteLimit{},
			RedisFailure: "fallback", ExpectedInstances: 1, MaxKeys: 100000,
		},
		Realtime: Realtime{
			MaxConnections: 10_000, MaxConnectionsPerPrincipal: 32, MaxMessageSize: 64 * KiB,
			InboundRate: 50, OutboundQueue: 256, SlowConsumer: "disconnect",
			PingInterval: 25 * time.Second, IdleTimeout: 60 * time.Second, ShutdownTimeout: 10 * time.Second,
		},
		Resilience: Resilience{
			Breaker:  defaultBreaker(false),
			Bulkhead: Bulkhead{MaxWait: 100 * time.Millisecond, Groups: []GroupLimit{}},
			Shedding: Shedding{InitialLimit: 100, MinLimit: 10, MaxLimit: 1000},
			Client: Client{
				Timeout: 10 * time.Second, MaxRetries: 2, BackoffBase: 100 * time.Millisecond, BackoffMax: 2 * time.Second,
				RetryBudget: 0.1, Breaker: defaultBreaker(true),
			},
		},
		Inspect: Inspect{
			Mode: "production", MaxEvents: 10_000, MaxActors: 10_000, Retention: 15 * time.Minute, DetectCycles: true,
			Adaptive: InspectAdaptive{MinRate: 0.001, MaxRate: 0.1, OverheadTarget: 0.02, Interval: time.Second},
			Console:  InspectConsole{Enabled: true, Auth: "none", MaxClients: 8},
		},
	}
}

// Load loads the configuration of service over Default: from the XDG
// config files, ./config.toml or file (a --config flag; "" for none), and
// the environment. It fails closed: any problem yields nil and an Errors
// listing all of them, so a bad config never serves.
func Load(service, file string) (*Config, *Effective, error) {
	cfg := Default()
	eff, err := Loader{Service: service, File: file}.Load(&cfg)
	if err != nil {
		return nil, nil, err
	}
	return &cfg, eff, nil
}

// defaultBreaker returns the breaker defaults: trip at 50% failures of at
// least 20 requests a minute, stay open 30s, probe with 5.
func defaultBreaker(enabled bool) Breaker {
	return Breaker{Enabled: enabled, FailureRatio: 0.5, MinRequests: 20, Interval: time.Minute, OpenTimeout: 30 * time.Second, HalfOpenRequests: 5}
}
