package authz

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// minHMACSecret is the shortest HMAC secret accepted: RFC 7518 §3.2 requires
// a key at least as long as the hash output, 32 bytes for HS256.
const minHMACSecret = 32

// errNoKey is reported for a config with no key source at all.
var errNoKey = errors.New("authz: no usable key: set HMACSecret, PublicKeyFiles or JWKSURLs")

// Validate reports every problem with cfg that can be seen before any key
// is loaded, each as a *fielderr.Error naming its field (joined with
// errors.Join), or nil. NewVerifier calls it; a service calls it to report
// every problem of its config at once.
func (cfg VerifierConfig) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, fielderr.New(field, format, args...)) }
	if cfg.Issuer == "" {
		add("Issuer", "required")
	}
	if len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, "") {
		add("Audience", "required, and no entry may be empty")
	}
	errs = append(errs, cfg.validateKeys()...)
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"JWKSRefresh", cfg.JWKSRefresh}, {"JWKSMinRefetch", cfg.JWKSMinRefetch}, {"Leeway", cfg.Leeway}} {
		if d.v < 0 {
			add(d.field, "must not be negative")
		}
	}
	if cfg.Leeway > maxLeeway {
		add("Leeway", "must be at most 5m: clocks that far apart need fixing, not tolerating")
	}
	if cfg.MaxTokenSize < 0 || cfg.MaxTokenSize > 0 && cfg.MaxTokenSize < minMaxTokenSize {
		add("MaxTokenSize", "must be at least 1KiB (or 0 for the default), got %d bytes", cfg.MaxTokenSize)
	}
	if cfg.CacheSize < 0 {
		add("CacheSize", "must not be negative")
	}
	if err := cfg.MissingJTI.Validate(); err != nil {
		add("MissingJTI", "%w", err)
	}
	return errors.Join(errs...)
}

// validateKeys checks the algorithms against the key sources and each key
// source on its own.
func (cfg VerifierConfig) validateKeys() []error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, fielderr.New(field, format, args...)) }
	algorithms := cfg.Algorithms
	if len(algorithms) == 0 {
		algorithms = cfg.derivedAlgorithms()
	}
	hmacListed := false
	for _, alg := range algorithms {
		family, ok := algFamilies[alg]
		switch {
		case alg == "none":
			add("Algorithms", "%q is never allowed", alg)
		case !ok:
			add("Algorithms", "unknown algorithm %q (use one of %s)", alg, strings.Join(Algorithms, ", "))
		case family == familyHMAC:
			hmacListed = true
		}
	}
	switch {
	case hmacListed && len(cfg.HMACSecret) == 0:
		add("HMACSecret", "required: an HS algorithm is allowed")
	case len(cfg.HMACSecret) > 0 && !hmacListed:
		add("HMACSecret", "set, but no HS algorithm is allowed")
	case len(cfg.HMACSecret) > 0 && len(cfg.HMACSecret) < minHMACSecret:
		add("HMACSecret", "must be at least %d bytes (256 bits, RFC 7518 §3.2), got %d", minHMACSecret, len(cfg.HMACSecret))
	}
	if len(cfg.HMACSecret) == 0 && len(cfg.PublicKeyFiles) == 0 && len(cfg.JWKSURLs) == 0 {
		errs = append(errs, errNoKey)
	}
	for _, u := range cfg.JWKSURLs {
		if err := checkJWKSURL(u); err != nil {
			add("JWKSURLs", "%w", err)
		}
	}
	return errs
}

// checkJWKSURL accepts https URLs, and http ones only on loopback: a key set
// fetched in the clear could be replaced on the way.
func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q must be https (http only on loopback)", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.Scheme == "https":
		return nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); (err == nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
		return nil
	}
	return fmt.Errorf("%q must be https (http only on loopback)", s)
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
			errs = append(errs, fielderr.New("PublicKeyFiles", "%s is an %s, but no allowed algorithm uses it", k.source, k.family))
		}
	}
	if !haveJWKS {
		for _, alg := range algorithms {
			if f := algFamilies[alg]; f != familyHMAC && f != familyNone && !have[f] {
				errs = append(errs, fielderr.New("Algorithms", "%s needs an %s in a key file or a JWKS", alg, f))
			}
		}
	}
	return errors.Join(errs...)
}
