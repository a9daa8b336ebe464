package authz

import (
	"log/slog"
	"net/http"
	"sort"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Defaults applied by NewVerifier to zero fields of VerifierConfig that
// cannot mean "off", and found in DefaultVerifierConfig.
const (
	// DefaultJWKSRefresh is how often JWKS documents are fetched again:
	// often enough to notice a retired key within minutes, rarely enough
	// not to matter to the identity provider.
	DefaultJWKSRefresh = 15 * time.Minute
	// DefaultJWKSMinRefetch is the least time between fetches caused by
	// unknown kids, which anyone can send: at most two fetches a minute
	// per identity provider, whatever an attacker sends.
	DefaultJWKSMinRefetch = 30 * time.Second
	// DefaultMaxTokenSize (8 KiB) is well above real access tokens and
	// below common header size limits.
	DefaultMaxTokenSize = 8 << 10
	// DefaultRolesClaim is the claim roles are read from.
	DefaultRolesClaim = "roles"
	// defaultJWKSTimeout bounds one JWKS fetch.
	defaultJWKSTimeout = 10 * time.Second
)

// DefaultVerifierConfig holds the values a service's auth.jwt keys default
// to; copy it and set the issuer, audience and keys. A zero VerifierConfig
// differs where zero means "none": no leeway, no token cache.
var DefaultVerifierConfig = VerifierConfig{
	JWKSRefresh:    DefaultJWKSRefresh,
	JWKSMinRefetch: DefaultJWKSMinRefetch,
	// Leeway of 30s absorbs the skew of NTP-synchronised hosts (tens of
	// milliseconds) many times over without keeping an expired token
	// useful for long.
	Leeway:         30 * time.Second,
	RequiredClaims: []string{"exp", "sub"},
	MaxTokenSize:   DefaultMaxTokenSize,
	RolesClaim:     DefaultRolesClaim,
	MissingJTI:     MissingJTIReject,
	// CacheSize of 10,000 verified tokens costs a few MiB and covers the
	// distinct tokens a busy instance sees within their lifetime.
	CacheSize: 10_000,
}

// maxLeeway is the most clock skew a VerifierConfig may allow: clocks that
// far apart need fixing, not tolerating, and each second of leeway is a
// second an expired token still works.
const maxLeeway = 5 * time.Minute

// minMaxTokenSize is the least MaxTokenSize: below 1 KiB even an ordinary
// access token with a few claims is refused.
const minMaxTokenSize = 1 << 10

// VerifierConfig configures a Verifier. Each field is set by the key of the
// same name in snake_case under auth.jwt (MissingJTI by
// auth.revocation.missing_jti); Validate and NewVerifier name the field
// of each problem (a *fielderr.Error), which the service maps to its key.
type VerifierConfig struct {
	// Algorithms is the allow-list of JWS algorithms, a subset of the
	// package's Algorithms; "none" is never accepted. Each listed algorithm
	// needs a key of its type, and each configured key an algorithm that
	// uses it. Empty means every algorithm the configured keys can verify:
	// the HS ones with an HMAC secret, the asymmetric ones with key files or
	// JWKS (a token still needs a key of its algorithm's exact type).
	Algorithms []string
	// HMACSecret is the shared secret for HS*, at least 32 bytes (RFC 7518
	// §3.2). HS* tokens are verified with it alone; their kid is ignored.
	HMACSecret []byte
	// PublicKeyFiles are PEM files, each one RSA, ECDSA or Ed25519 public
	// key or certificate. A key's kid is its file's base name without the
	// extension: "keys/2026-01.pem" is kid "2026-01".
	PublicKeyFiles []string
	// JWKSURLs are JWK Set documents, https (http only on loopback: a key
	// set fetched in the clear could be replaced on the way). Each is
	// fetched by NewVerifier, and a failure there is an error (fail closed);
	// then they are refreshed every JWKSRefresh, and fetched again when a
	// token names an unknown kid, at most once per JWKSMinRefetch. Keys may
	// so rotate without a restart. Symmetric (oct) JWKs are ignored.
	JWKSURLs []string
	// JWKSRefresh is the background refresh interval; 0 means
	// DefaultJWKSRefresh.
	JWKSRefresh time.Duration
	// JWKSMinRefetch is the least time between two fetches triggered by
	// unknown kids; 0 means DefaultJWKSMinRefetch.
	JWKSMinRefetch time.Duration
	// HTTPClient fetches JWKS documents; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Issuer is required; a token's iss must equal it.
	Issuer string
	// Audience is required; a token's aud (a string or an array) must
	// contain at least one of these.
	Audience []string
	// Leeway is the clock skew allowed for exp, nbf and iat, at most 5m;
	// 0 allows none.
	Leeway time.Duration
	// RequiredClaims must be present in every token. exp and sub always are.
	RequiredClaims []string
	// MaxTokenSize is the largest token, in bytes, that is even parsed: at
	// least 1 KiB, or 0 for DefaultMaxTokenSize.
	MaxTokenSize int
	// RolesClaim names the claim holding roles, an array of strings or a
	// space-separated string; "" means DefaultRolesClaim.
	RolesClaim string
	// Revocation, when set, is asked about every token's jti on every
	// Verify, cache hits included. nil turns revocation off.
	Revocation RevocationStore
	// MissingJTI is what happens to a token without a jti when Revocation is
	// set: MissingJTIReject (also "") refuses it, since it could not be
	// revoked; MissingJTIAllow accepts it.
	MissingJTI MissingJTIPolicy
	// CacheSize is the number of verified tokens remembered so their
	// signatures are not verified again; 0 turns the cache off.
	CacheSize int
	// MeterProvider makes the metric counting token-cache hits and misses
	// (troupe.auth.cache.lookups); nil records nothing.
	MeterProvider metric.MeterProvider
	// Logger receives JWKS refresh problems; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

// withDefaults returns cfg with zero fields filled in.
func (cfg VerifierConfig) withDefaults() VerifierConfig {
	if cfg.JWKSRefresh == 0 {
		cfg.JWKSRefresh = DefaultJWKSRefresh
	}
	if cfg.JWKSMinRefetch == 0 {
		cfg.JWKSMinRefetch = DefaultJWKSMinRefetch
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultJWKSTimeout}
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = DefaultMaxTokenSize
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// derivedAlgorithms is the allow-list an empty Algorithms stands for.
func (cfg VerifierConfig) derivedAlgorithms() []string {
	var algs []string
	for alg, family := range algFamilies {
		asymmetric := len(cfg.PublicKeyFiles) > 0 || len(cfg.JWKSURLs) > 0
		if family == familyHMAC && len(cfg.HMACSecret) > 0 || family != familyHMAC && asymmetric {
			algs = append(algs, alg)
		}
	}
	sort.Strings(algs)
	return algs
}
