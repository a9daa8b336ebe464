package middleware

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// SecurityHeadersConfig configures SecurityHeaders. An empty string field
// omits its header.
type SecurityHeadersConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// HSTSMaxAge is Strict-Transport-Security's max-age, whole seconds. The
	// header goes only on TLS requests (RFC 6797 §7.2); zero or less omits it.
	HSTSMaxAge time.Duration
	// HSTSIncludeSubdomains adds includeSubDomains to Strict-Transport-Security.
	HSTSIncludeSubdomains bool
	// HSTSPreload adds preload to Strict-Transport-Security, the opt-in to
	// browsers' built-in HSTS lists.
	HSTSPreload bool
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff, so browsers
	// do not reinterpret a JSON body as script or HTML.
	ContentTypeNosniff bool
	// FrameOptions is X-Frame-Options ("DENY", "SAMEORIGIN").
	FrameOptions string
	// ContentSecurityPolicy is Content-Security-Policy.
	ContentSecurityPolicy string
	// ReferrerPolicy is Referrer-Policy.
	ReferrerPolicy string
}

// DefaultSecurityHeadersConfig is the lock-down suited to a JSON API, which
// never needs to be framed, run script or leak its URLs: HSTS for 365 days
// with subdomains, nosniff, DENY, a CSP of "default-src 'none';
// frame-ancestors 'none'" and no-referrer.
var DefaultSecurityHeadersConfig = SecurityHeadersConfig{
	Skipper:               middleware.DefaultSkipper,
	HSTSMaxAge:            365 * 24 * time.Hour,
	HSTSIncludeSubdomains: true,
	ContentTypeNosniff:    true,
	FrameOptions:          "DENY",
	ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
	ReferrerPolicy:        "no-referrer",
}

// SecurityHeaders returns middleware that sets the response header fields of
// DefaultSecurityHeadersConfig.
func SecurityHeaders() echo.MiddlewareFunc {
	return SecurityHeadersWithConfig(DefaultSecurityHeadersConfig)
}

// SecurityHeadersWithConfig returns SecurityHeaders with cfg. Only Skipper
// takes a default; every other field is used as given.
//
// The fields are set before the inner chain runs, so error responses carry
// them too. Their values are computed once, here, not per request.
func SecurityHeadersWithConfig(cfg SecurityHeadersConfig) echo.MiddlewareFunc {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultSecurityHeadersConfig.Skipper
	}
	var plain []headerField
	add := func(key, value string) {
		if value != "" {
			plain = append(plain, headerField{key, value})
		}
	}
	if cfg.ContentTypeNosniff {
		add(echo.HeaderXContentTypeOptions, "nosniff")
	}
	add(echo.HeaderXFrameOptions, cfg.FrameOptions)
	add(echo.HeaderContentSecurityPolicy, cfg.ContentSecurityPolicy)
	add(echo.HeaderReferrerPolicy, cfg.ReferrerPolicy)
	secure := plain
	if hsts := hstsValue(cfg); hsts != "" {
		secure = append(plain[:len(plain):len(plain)], headerField{echo.HeaderStrictTransportSecurity, hsts})
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			fields := plain
			if c.Request().TLS != nil {
				fields = secure
			}
			h := c.Response().Header()
			values := make(headerValues, 0, len(fields))
			for _, f := range fields {
				values.set(h, f.key, f.value)
			}
			return next(c)
		}
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
