package middleware_test

import (
	"reflect"
	"testing"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/middleware"
)

// TestDefaultsMatchConfig checks that a Go user who starts from a
// Default…Config gets what an operator who leaves the keys alone gets: the
// package that implements a value owns its default, and config.Default
// must agree with it.
func TestDefaultsMatchConfig(t *testing.T) {
	c := config.Default()
	for _, tt := range []struct {
		key       string
		got, want any
	}{
		{"http.body_limit", middleware.DefaultBodyLimitConfig.Limit, c.HTTP.BodyLimit.Int64()},
		{"http.request_timeout", middleware.DefaultTimeoutConfig.Timeout, c.HTTP.RequestTimeout},
		{"log.headers", middleware.DefaultAccessLogConfig.LogHeaders, c.Log.Headers},
		{"log.redact_headers", len(middleware.DefaultAccessLogConfig.RedactHeaders), len(c.Log.RedactHeaders)},
		{"cors.allow_origins", len(middleware.DefaultCORSConfig.AllowOrigins), len(c.CORS.AllowOrigins)},
		{"cors.allow_methods", middleware.DefaultCORSConfig.AllowMethods, c.CORS.AllowMethods},
		{"cors.allow_headers", middleware.DefaultCORSConfig.AllowHeaders, c.CORS.AllowHeaders},
		{"cors.expose_headers", middleware.DefaultCORSConfig.ExposeHeaders, c.CORS.ExposeHeaders},
		{"cors.allow_credentials", middleware.DefaultCORSConfig.AllowCredentials, c.CORS.AllowCredentials},
		{"cors.max_age", middleware.DefaultCORSConfig.MaxAge, c.CORS.MaxAge},
		{"security_headers.hsts_max_age", middleware.DefaultSecurityHeadersConfig.HSTSMaxAge, c.SecurityHeaders.HSTSMaxAge},
		{"security_headers.hsts_include_subdomains", middleware.DefaultSecurityHeadersConfig.HSTSIncludeSubdomains, c.SecurityHeaders.HSTSIncludeSubdomains},
		{"security_headers.hsts_preload", middleware.DefaultSecurityHeadersConfig.HSTSPreload, c.SecurityHeaders.HSTSPreload},
		{"security_headers.content_type_nosniff", middleware.DefaultSecurityHeadersConfig.ContentTypeNosniff, c.SecurityHeaders.ContentTypeNosniff},
		{"security_headers.frame_options", middleware.DefaultSecurityHeadersConfig.FrameOptions, c.SecurityHeaders.FrameOptions},
		{"security_headers.content_security_policy", middleware.DefaultSecurityHeadersConfig.ContentSecurityPolicy, c.SecurityHeaders.ContentSecurityPolicy},
		{"security_headers.referrer_policy", middleware.DefaultSecurityHeadersConfig.ReferrerPolicy, c.SecurityHeaders.ReferrerPolicy},
		{"compression.min_size", int64(middleware.DefaultCompressConfig.MinSize), c.Compression.MinSize.Int64()},
		{"compression.algorithms", middleware.DefaultCompressConfig.Algorithms, c.Compression.Algorithms},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: middleware's default is %v, config.Default's %v", tt.key, tt.got, tt.want)
		}
	}
}
