package middleware_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

func TestSecurityHeaders(t *testing.T) {
	const csp = "default-src 'none'; frame-ancestors 'none'"
	tests := []struct {
		name string
		cfg  middleware.SecurityHeadersConfig
		tls  bool
		want map[string]string // "" means absent
	}{
		{
			name: "defaults over plain HTTP omit HSTS",
			cfg:  middleware.DefaultSecurityHeadersConfig,
			want: map[string]string{
				"Strict-Transport-Security": "",
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Content-Security-Policy":   csp,
				"Referrer-Policy":           "no-referrer",
			},
		},
		{
			name: "defaults over TLS",
			cfg:  middleware.DefaultSecurityHeadersConfig,
			tls:  true,
			want: map[string]string{
				"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
				"X-Content-Type-Options":    "nosniff",
			},
		},
		{
			name: "preload without subdomains",
			cfg:  middleware.SecurityHeadersConfig{HSTSMaxAge: 90 * time.Second, HSTSPreload: true},
			tls:  true,
			want: map[string]string{"Strict-Transport-Security": "max-age=90; preload"},
		},
		{
			name: "zero config sets nothing",
			cfg:  middleware.SecurityHeadersConfig{},
			tls:  true,
			want: map[string]string{
				"Strict-Transport-Security": "",
				"X-Content-Type-Options":    "",
				"X-Frame-Options":           "",
				"Content-Security-Policy":   "",
				"Referrer-Policy":           "",
			},
		},
		{
			name: "custom values",
			cfg:  middleware.SecurityHeadersConfig{FrameOptions: "SAMEORIGIN", ReferrerPolicy: "strict-origin"},
			want: map[string]string{"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "strict-origin", "Content-Security-Policy": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := coreEcho(nil, middleware.SecurityHeadersWithConfig(tt.cfg))
			e.GET("/ok", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			e.GET("/fail", func(echo.Context) error { return errors.New("fail") })
			for _, path := range []string{"/ok", "/fail"} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				if tt.tls {
					r.TLS = &tls.ConnectionState{}
				}
				w := serve(e, r)
				for k, v := range tt.want {
					if got := w.Header().Get(k); got != v {
						t.Errorf("%s: %s = %q, want %q", path, k, got, v)
					}
				}
			}
		})
	}
}

func TestSecurityHeadersValuesAreNotShared(t *testing.T) {
	mw := middleware.SecurityHeaders()
	editing := coreEcho(nil, mw)
	editing.GET("/", func(c echo.Context) error {
		h := c.Response().Header()
		h["X-Frame-Options"][0] = "SAMEORIGIN" // legal, if unusual: edit in place
		h.Add("X-Content-Type-Options", "extra")
		return c.NoContent(http.StatusNoContent)
	})
	plain := coreEcho(nil, mw)
	plain.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	w := serve(editing, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Values("X-Content-Type-Options"); len(got) != 2 {
		t.Errorf("X-Content-Type-Options = %q, want nosniff and extra", got)
	}
	for _, k := range []string{"X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if got := w.Header().Values(k); len(got) != 1 {
			t.Errorf("%s = %q: an append to a neighbour leaked into it", k, got)
		}
	}
	if got := serve(plain, httptest.NewRequest(http.MethodGet, "/", nil)).Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q after an earlier request edited its own copy", got)
	}
}

func ExampleSecurityHeaders() {
	e := echo.New()
	e.Use(middleware.SecurityHeaders())
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.TLS = &tls.ConnectionState{} // HSTS is only sent over TLS
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	for _, k := range []string{"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		fmt.Printf("%s: %s\n", k, w.Header().Get(k))
	}
	// Output:
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Content-Type-Options: nosniff
	// X-Frame-Options: DENY
	// Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
	// Referrer-Policy: no-referrer
}
