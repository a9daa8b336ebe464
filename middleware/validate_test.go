package middleware_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/middleware"
)

// validator is every middleware config with a semantic check.
type validator interface{ Validate() error }

// TestDefaultConfigsAreValid checks that what a user starts from passes its
// own check.
func TestDefaultConfigsAreValid(t *testing.T) {
	for name, v := range map[string]validator{
		"AccessLog":       middleware.DefaultAccessLogConfig,
		"BodyLimit":       middleware.DefaultBodyLimitConfig,
		"CORS":            middleware.DefaultCORSConfig,
		"Compress":        middleware.DefaultCompressConfig,
		"SecurityHeaders": middleware.DefaultSecurityHeadersConfig,
		"Timeout":         middleware.DefaultTimeoutConfig,
	} {
		if err := v.Validate(); err != nil {
			t.Errorf("Default%sConfig: %v", name, err)
		}
	}
}

// TestValidateNamesTheField checks each config's problems: every one is a
// *fielderr.Error naming the Go field (the service turns it into the key)
// and saying what is wrong.
func TestValidateNamesTheField(t *testing.T) {
	secure := middleware.DefaultSecurityHeadersConfig
	secure.HSTSMaxAge = -time.Second
	secure.FrameOptions = "ALLOW-FROM https://example.com"
	secure.ContentSecurityPolicy = "default-src 'none'\r\nX-Injected: 1"
	secure.ReferrerPolicy = "no-referrer\x7f"

	for _, tt := range []struct {
		name string
		cfg  validator
		want []string // "Field: problem" of each error, in order
	}{
		{"body limit", middleware.BodyLimitConfig{Limit: -1}, []string{"Limit: must not be negative, got -1"}},
		{"unlimited body", middleware.BodyLimitConfig{}, nil},
		{"timeout", middleware.TimeoutConfig{Timeout: -time.Second}, []string{"Timeout: must not be negative, got -1s"}},
		{"no timeout", middleware.TimeoutConfig{}, nil},
		{"access log", middleware.AccessLogConfig{RedactHeaders: []string{"X-Session", "X Bad", ""}}, []string{
			`RedactHeaders: "X Bad" is not a valid HTTP header name`,
			`RedactHeaders: "" is not a valid HTTP header name`,
		}},
		{"security headers", secure, []string{
			"HSTSMaxAge: must not be negative, got -1s",
			`FrameOptions: must be one of "DENY", "SAMEORIGIN", "", got "ALLOW-FROM https://example.com"`,
			"ContentSecurityPolicy: must not contain control characters",
			"ReferrerPolicy: must not contain control characters",
		}},
		{"security headers all omitted", middleware.SecurityHeadersConfig{}, nil},
		{"tab in a header value", middleware.SecurityHeadersConfig{ContentSecurityPolicy: "default-src\t'none'"}, nil},
		{"cors", middleware.CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true, ExposeHeaders: []string{"X:Y"}, MaxAge: -time.Minute}, []string{
			`AllowOrigins: "*" cannot be used when credentials are allowed`,
			`ExposeHeaders: invalid header name "X:Y"`,
			"MaxAge: must not be negative, got -1m0s",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range fielderr.All(tt.cfg.Validate()) {
				var fe *fielderr.Error
				if !errors.As(e, &fe) {
					t.Fatalf("%v is not a *fielderr.Error", e)
				}
				got = append(got, fe.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Validate:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
