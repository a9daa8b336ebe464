package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// SecurityHeadersConfig configures SecurityHeaders. An empty string field
// omits its header.
type SecurityHeadersConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// HSTSMaxAge is Strict-Transport-Security's max-age, whole seconds. The
	// header goes only on TLS requests (RFC 6797 §7.2); zero omits it.
	HSTSMaxAge time.Duration
	// HSTSIncludeSubdomains adds includeSubDomains to Strict-Transport-Security.
	HSTSIncludeSubdomains bool
	// HSTSPreload adds preload to Strict-Transport-Security, the opt-in to
	// browsers' built-in HSTS lists.
	HSTSPreload bool
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff, so browsers
	// do not reinterpret a JSON body as script or HTML.
	ContentTypeNosniff bool
	// FrameOptions is X-Frame-Options: "DENY" or "SAMEORIGIN".
	FrameOptions string
	// ContentSecurityPolicy is Content-Security-Policy. Like every value
	// here, it must not hold control characters (see Validate).
	ContentSecurityPolicy string
	// ReferrerPolicy is Referrer-Policy.
	ReferrerPolicy string
}

// DefaultSecurityHeadersConfig is the lock-down suited to a JSON API, which
// never needs to be framed, run script or leak its URLs: HSTS for 365 days
// with subdomains, nosniff, DENY, a CSP of "default-src 'none';
// frame-ancestors 'none'" and no-referrer.
var DefaultSecurityHeadersConfig = SecurityHeadersConfig{
	Skipper:               DefaultSkipper,
	HSTSMaxAge:            365 * 24 * time.Hour,
	HSTSIncludeSubdomains: true,
	ContentTypeNosniff:    true,
	FrameOptions:          "DENY",
	ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
	ReferrerPolicy:        "no-referrer",
}

// Validate reports every problem in c, each a *fielderr.Error naming the
// field: a negative HSTSMaxAge, a FrameOptions other than DENY, SAMEORIGIN
// or "" (ALLOW-FROM is obsolete and ignored by browsers), and control
// characters in a header value, which could split the response header.
func (c SecurityHeadersConfig) Validate() error {
	var errs []error
	if c.HSTSMaxAge < 0 {
		errs = append(errs, fielderr.New("HSTSMaxAge", "must not be negative, got %s", c.HSTSMaxAge))
	}
	switch c.FrameOptions {
	case "DENY", "SAMEORIGIN", "":
	default:
		errs = append(errs, fielderr.New("FrameOptions", `must be one of "DENY", "SAMEORIGIN", "", got %q`, c.FrameOptions))
	}
	for _, f := range []struct{ name, value string }{
		{"ContentSecurityPolicy", c.ContentSecurityPolicy},
		{"ReferrerPolicy", c.ReferrerPolicy},
	} {
		if hasControlChar(f.value) {
			errs = append(errs, fielderr.New(f.name, "must not contain control characters"))
		}
	}
	return errors.Join(errs...)
}

// hasControlChar reports whether s holds a character a header field value
// must not: any control character but horizontal tab (RFC 9110 §5.5).
func hasControlChar(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}

// securityHeaders is the core of SecurityHeaders: the fields to set,
// computed once.
type securityHeaders struct {
	skip   Skipper
	plain  []headerField // for plaintext requests
	secure []headerField // for TLS requests: plain and HSTS
}

// newSecurityHeaders renders cfg's fields; only Skipper takes a default.
func newSecurityHeaders(cfg SecurityHeadersConfig) *securityHeaders {
	s := &securityHeaders{skip: cfg.Skipper}
	if s.skip == nil {
		s.skip = DefaultSecurityHeadersConfig.Skipper
	}
	add := func(key, value string) {
		if value != "" {
			s.plain = append(s.plain, headerField{key, value})
		}
	}
	if cfg.ContentTypeNosniff {
		add("X-Content-Type-Options", "nosniff")
	}
	add("X-Frame-Options", cfg.FrameOptions)
	add("Content-Security-Policy", cfg.ContentSecurityPolicy)
	add("Referrer-Policy", cfg.ReferrerPolicy)
	s.secure = s.plain
	if hsts := hstsValue(cfg); hsts != "" {
		s.secure = append(s.plain[:len(s.plain):len(s.plain)], headerField{"Strict-Transport-Security", hsts})
	}
	return s
}

// apply sets the fields for r on the response header h.
func (s *securityHeaders) apply(r *http.Request, h http.Header) {
	fields := s.plain
	if r.TLS != nil {
		fields = s.secure
	}
	values := make(headerValues, 0, len(fields))
	for _, f := range fields {
		values.set(h, f.key, f.value)
	}
}

func hstsValue(cfg SecurityHeadersConfig) string {
	if cfg.HSTSMaxAge <= 0 {
		return ""
	}
	v := "max-age=" + strconv.FormatInt(int64(cfg.HSTSMaxAge/time.Second), 10)
	if cfg.HSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if cfg.HSTSPreload {
		v += "; preload"
	}
	return v
}

// headerField is one precomputed response header field; key is canonical.
type headerField struct{ key, value string }

// headerValues hands out one-element value slices cut from a single backing
// array, so a middleware setting several header fields allocates once rather
// than once per field. Each slice is capped at its length, so an append by a
// later writer copies instead of overwriting a neighbour.
type headerValues []string

// set replaces key's values with value; key must be canonical.
func (hv *headerValues) set(h http.Header, key, value string) {
	*hv = append(*hv, value)
	n := len(*hv)
	h[key] = (*hv)[n-1 : n : n]
}

// add appends value to key's values; key must be canonical.
func (hv *headerValues) add(h http.Header, key, value string) {
	if old := h[key]; len(old) > 0 {
		h[key] = append(old, value)
		return
	}
	hv.set(h, key, value)
}
