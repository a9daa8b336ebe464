package authz

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Defaults applied by NewVerifier to zero fields of VerifierConfig.
const (
	// DefaultJWKSRefresh is how often JWKS documents are fetched again:
	// often enough to notice a retired key within minutes, rarely enough
	// not to matter to the identity provider.
	DefaultJWKSRefresh = 15 * time.Minute
	// DefaultJWKSMinRefetch is the least time between fetches caused by
	// unknown kids, which anyone can send.
	DefaultJWKSMinRefetch = time.Minute
	// DefaultMaxTokenSize (8 KiB) is well above real access tokens and
	// below common header size limits.
	DefaultMaxTokenSize = 8 << 10
	// DefaultRolesClaim is the claim roles are read from.
	DefaultRolesClaim = "roles"
	// defaultJWKSTimeout bounds one JWKS fetch.
	defaultJWKSTimeout = 10 * time.Second
)

// minHMACSecret is the shortest HMAC secret accepted: RFC 7518 §3.2 requires
// a key at least as long as the hash output, 32 bytes for HS256.
const minHMACSecret = 32

// VerifierConfig configures a Verifier. Error messages name fields by their
// config keys under auth.jwt, which is where operators set them.
type VerifierConfig struct {
	// Algorithms is the allow-list of JWS algorithms (auth.jwt.algorithms),
	// a subset of RS256 RS384 RS512 PS256 ES256 ES384 EdDSA HS256 HS384
	// HS512. "none" is never accepted. Each listed algorithm needs a key of
	// its type, and each configured key an algorithm that uses it. Empty
	// means every algorithm the configured keys can verify: the HS ones with
	// an HMAC secret, the asymmetric ones with key files or JWKS (a token
	// still needs a key of its algorithm's exact type).
	Algorithms []string
	// HMACSecret is the shared secret for HS* (auth.jwt.hmac_secret), at
	// least 32 bytes. HS* tokens are verified with it alone; their kid is
	// ignored.
	HMACSecret []byte
	// PublicKeyFiles are PEM files (auth.jwt.public_key_files), each one RSA,
	// ECDSA or Ed25519 public key or certificate. A key's kid is its file's
	// base name without the extension: "keys/2026-01.pem" is kid "2026-01".
	PublicKeyFiles []string
	// JWKSURLs are JWK Set documents (auth.jwt.jwks_urls). Each is fetched by
	// NewVerifier, and a failure there is an error (fail closed); then they
	// are refreshed every JWKSRefresh, and fetched again when a token names
	// an unknown kid, at most once per JWKSMinRefetch. Keys may so rotate
	// without a restart. Symmetric (oct) JWKs are ignored.
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
	// Leeway is the clock skew allowed for exp, nbf and iat.
	Leeway time.Duration
	// RequiredClaims must be present in every token. exp and sub always are.
	RequiredClaims []string
	// MaxTokenSize is the largest token, in bytes, that is even parsed; 0
	// means DefaultMaxTokenSize.
	MaxTokenSize int
	// RolesClaim names the claim holding roles, an array of strings or a
	// space-separated string; "" means DefaultRolesClaim.
	RolesClaim string
	// Revocation, when set, is asked about every token's jti on every
	// Verify, cache hits included. nil turns revocation off.
	Revocation RevocationStore
	// AllowMissingJTI accepts tokens without a jti when Revocation is set.
	// By default they are refused: such a token could not be revoked.
	AllowMissingJTI bool
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

// validate reports every problem with cfg that can be seen before any key
// is loaded.
func (cfg VerifierConfig) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Issuer == "" {
		add("auth.jwt.issuer: required")
	}
	if len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, "") {
		add("auth.jwt.audience: required, and no entry may be empty")
	}
	hmacListed := false
	for _, alg := range cfg.Algorithms {
		family, ok := algFamilies[alg]
		switch {
		case alg == "none":
			add("auth.jwt.algorithms: %q is never allowed", alg)
		case !ok:
			add("auth.jwt.algorithms: unknown algorithm %q (supported: %s)", alg, supportedAlgorithms())
		case family == familyHMAC:
			hmacListed = true
		}
	}
	switch {
	case hmacListed && len(cfg.HMACSecret) == 0:
		add("auth.jwt.hmac_secret: required because auth.jwt.algorithms lists an HS algorithm")
	case len(cfg.HMACSecret) > 0 && !hmacListed:
		add("auth.jwt.hmac_secret: set, but auth.jwt.algorithms lists no HS algorithm")
	case len(cfg.HMACSecret) > 0 && len(cfg.HMACSecret) < minHMACSecret:
		add("auth.jwt.hmac_secret: %d bytes is too short (at least %d, RFC 7518 §3.2)", len(cfg.HMACSecret), minHMACSecret)
	}
	if len(cfg.HMACSecret) == 0 && len(cfg.PublicKeyFiles) == 0 && len(cfg.JWKSURLs) == 0 {
		add("auth.jwt: no usable key (set hmac_secret, public_key_files or jwks_urls)")
	}
	for _, u := range cfg.JWKSURLs {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			add("auth.jwt.jwks_urls: %q is not an http(s) URL", u)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"jwks_refresh", cfg.JWKSRefresh}, {"jwks_min_refetch", cfg.JWKSMinRefetch}, {"leeway", cfg.Leeway}} {
		if d.v < 0 {
			add("auth.jwt.%s: must not be negative", d.key)
		}
	}
	if cfg.MaxTokenSize < 0 {
		add("auth.jwt.max_token_size: must not be negative")
	}
	if cfg.CacheSize < 0 {
		add("auth.jwt.cache_size: must not be negative")
	}
	return errors.Join(errs...)
}

// checkKeyCoverage reports listed asymmetric algorithms without a key and
// static keys no listed algorithm uses. With JWKS URLs the set of key types
// may change at any refresh, so only static keys are checked then.
func checkKeyCoverage(algorithms []string, static []*verificationKey, haveJWKS bool) error {
	var errs []error
	listed := make(map[keyFamily]bool)
	for _, alg := range algorithms {
		listed[algFamilies[alg]] = true
	}
	have := make(map[keyFamily]bool)
	for _, k := range static {
		have[k.family] = true
		if !listed[k.family] {
			errs = append(errs, fmt.Errorf("auth.jwt.public_key_files: %s is an %s, but auth.jwt.algorithms lists no algorithm for it", k.source, k.family))
		}
	}
	if !haveJWKS {
		for _, alg := range algorithms {
			if f := algFamilies[alg]; f != familyHMAC && f != familyNone && !have[f] {
				errs = append(errs, fmt.Errorf("auth.jwt.algorithms: %s needs an %s in auth.jwt.public_key_files or a JWKS in auth.jwt.jwks_urls", alg, f))
			}
		}
	}
	return errors.Join(errs...)
}

func supportedAlgorithms() string {
	algs := make([]string, 0, len(algFamilies))
	for alg := range algFamilies {
		algs = append(algs, alg)
	}
	sort.Strings(algs)
	return fmt.Sprint(algs)
}
