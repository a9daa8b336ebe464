package middleware_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

func TestCORSConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  middleware.CORSConfig
		want []string // substrings of the error
	}{
		{name: "other scheme", cfg: cors("ftp://files.example.com"), want: []string{`"ftp://files.example.com"`, "scheme"}},
		{name: "no scheme", cfg: cors("example.com"), want: []string{`"example.com"`}},
		{name: "trailing slash", cfg: cors("https://example.com/"), want: []string{`"https://example.com/"`, "path"}},
		{name: "path", cfg: cors("https://example.com/app"), want: []string{"path"}},
		{name: "query", cfg: cors("https://example.com?x=1"), want: []string{"query"}},
		{name: "fragment", cfg: cors("https://example.com#top"), want: []string{"fragment"}},
		{name: "user info", cfg: cors("https://user:pw@example.com"), want: []string{"user info"}},
		{name: "empty host", cfg: cors("https://"), want: []string{`"https://"`}},
		{name: "wildcard subdomain", cfg: cors("https://*.example.com"), want: []string{`"https://*.example.com"`}},
		{name: "empty label", cfg: cors("https://example..com"), want: []string{"host"}},
		{name: "port zero", cfg: cors("https://example.com:0"), want: []string{"port"}},
		{name: "port too big", cfg: cors("https://example.com:70000"), want: []string{"port"}},
		{name: "empty port", cfg: cors("https://example.com:"), want: []string{"port"}},
		{name: "IPv6 zone", cfg: cors("http://[fe80::1%25eth0]:8080"), want: []string{"fe80"}},
		{name: "null", cfg: cors("null"), want: []string{`"null"`}},
		{name: "star mixed with others", cfg: cors("*", "https://example.com"), want: []string{`"*" cannot be combined`}},
		{
			name: "star with credentials",
			cfg:  middleware.CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true},
			want: []string{`"*" cannot be used when credentials are allowed`},
		},
		{
			name: "bad method and header",
			cfg:  middleware.CORSConfig{AllowOrigins: []string{"https://ok.example"}, AllowMethods: []string{"GET", "PO ST"}, AllowHeaders: []string{"X-Ok", "Bad:Header"}},
			want: []string{`AllowMethods: invalid method "PO ST"`, `AllowHeaders: invalid header name "Bad:Header"`},
		},
		{
			name: "negative max age",
			cfg:  middleware.CORSConfig{AllowOrigins: []string{"https://ok.example"}, MaxAge: -time.Second},
			want: []string{"MaxAge: must not be negative, got -1s"},
		},
		{
			name: "every problem is reported",
			cfg:  cors("https://ok.example", "ftp://a", "https://b/", "*"),
			want: []string{`AllowOrigins: invalid origin "ftp://a"`, `AllowOrigins: invalid origin "https://b/"`, `AllowOrigins: "*" cannot be combined`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := middleware.CORSWithConfig(tt.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if mw != nil {
				t.Error("middleware returned along with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func cors(origins ...string) middleware.CORSConfig {
	cfg := middleware.DefaultCORSConfig
	cfg.AllowOrigins = origins
	return cfg
}

func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	credentialed := cors(app, "http://localhost:3000", "HTTPS://Admin.Example.COM:443", "http://[::1]:8080")
	credentialed.AllowCredentials = true
	tests := []struct {
		name        string
		cfg         middleware.CORSConfig
		method      string
		header      map[string]string
		wantStatus  int
		wantHandler bool
		want        map[string]string // "" means absent
	}{
		{
			name:        "simple request from an allowed origin",
			cfg:         credentialed,
			method:      http.MethodGet,
			header:      map[string]string{"Origin": app},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want: map[string]string{
				"Access-Control-Allow-Origin":      app,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers":    "X-Request-ID, Location, Deprecation, Sunset, Link, Retry-After",
				"Access-Control-Allow-Methods":     "",
				"Vary":                             "Origin",
			},
		},
		{
			name:        "origin matched after normalisation",
			cfg:         credentialed,
			method:      http.MethodGet,
			header:      map[string]string{"Origin": "https://admin.example.com"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "https://admin.example.com"},
		},
		{
			name:        "request spelling normalised too",
			cfg:         credentialed,
			method:      http.MethodGet,
			header:      map[string]string{"Origin": "HTTP://LOCALHOST:3000"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "HTTP://LOCALHOST:3000"},
		},
		{
			name:        "IPv6 origin",
			cfg:         credentialed,
			method:      http.MethodGet,
			header:      map[string]string{"Origin": "http://[::1]:8080"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "http://[::1]:8080"},
		},
		{
			name:        "other port is another origin",
			cfg:         credentialed,
			method:      http.MethodGet,
			header:      map[string]string{"Origin": "http://localhost:3001"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"},
		},
		{
			name:        "disallowed origin passes through without CORS fields",
			cfg:         credentialed,
			method:      http.MethodPost,
			header:      map[string]string{"Origin": "https://evil.example"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want: map[string]string{
				"Access-Control-Allow-Origin":      "",
				"Access-Control-Allow-Credentials": "",
				"Access-Control-Expose-Headers":    "",
				"Vary":                             "Origin",
			},
		},
		{
			name:        "no origin",
			cfg:         credentialed,
			method:      http.MethodGet,
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"},
		},
		{
			name:       "preflight from an allowed origin",
			cfg:        credentialed,
			method:     http.MethodOptions,
			header:     map[string]string{"Origin": app, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, authorization"},
			wantStatus: http.StatusNoContent,
			want: map[string]string{
				"Access-Control-Allow-Origin":      app,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, HEAD, POST, PUT, PATCH, DELETE",
				"Access-Control-Allow-Headers":     "content-type, authorization",
				"Access-Control-Max-Age":           "600",
				"Access-Control-Expose-Headers":    "",
				"Vary":                             "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			},
		},
		{
			name:       "preflight asking for a header not allowed gets only the allowed list",
			cfg:        credentialed,
			method:     http.MethodOptions,
			header:     map[string]string{"Origin": app, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type,x-debug"},
			wantStatus: http.StatusNoContent,
			want:       map[string]string{"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-ID"},
		},
		{
			name:       "preflight from a disallowed origin",
			cfg:        credentialed,
			method:     http.MethodOptions,
			header:     map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"},
			wantStatus: http.StatusNoContent,
			want: map[string]string{
				"Access-Control-Allow-Origin":  "",
				"Access-Control-Allow-Methods": "",
				"Access-Control-Allow-Headers": "",
				"Access-Control-Max-Age":       "",
			},
		},
		{
			name:        "OPTIONS without a request method is not a preflight",
			cfg:         credentialed,
			method:      http.MethodOptions,
			header:      map[string]string{"Origin": app},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": ""},
		},
		{
			name:        "wildcard",
			cfg:         cors("*"),
			method:      http.MethodGet,
			header:      map[string]string{"Origin": "https://anyone.example"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Vary": ""},
		},
		{
			name:       "wildcard preflight",
			cfg:        cors("*"),
			method:     http.MethodOptions,
			header:     map[string]string{"Origin": "https://anyone.example", "Access-Control-Request-Method": "PATCH"},
			wantStatus: http.StatusNoContent,
			want: map[string]string{
				"Access-Control-Allow-Origin": "*",
				"Vary":                        "Access-Control-Request-Method, Access-Control-Request-Headers",
			},
		},
		{
			name:        "no origins configured disables CORS",
			cfg:         middleware.DefaultCORSConfig,
			method:      http.MethodOptions,
			header:      map[string]string{"Origin": app, "Access-Control-Request-Method": "PUT"},
			wantStatus:  http.StatusOK,
			wantHandler: true,
			want:        map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := middleware.CORSWithConfig(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			handled := false
			e := coreEcho(nil, mw)
			e.Any("/orders", func(c echo.Context) error {
				handled = true
				return c.String(http.StatusOK, "ok")
			})
			r := httptest.NewRequest(tt.method, "/orders", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := serve(e, r)

			if w.Code != tt.wantStatus || handled != tt.wantHandler {
				t.Errorf("status %d handled %v, want %d handled %v", w.Code, handled, tt.wantStatus, tt.wantHandler)
			}
			for k, v := range tt.want {
				if got := strings.Join(w.Header().Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORSHeadersOnErrorResponses(t *testing.T) {
	mw, err := middleware.CORSWithConfig(cors("https://app.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	e := coreEcho(nil, mw)
	e.GET("/x", func(echo.Context) error { return echo.ErrForbidden })
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w := serve(e, r)

	readProblem(t, w)
	if got := w.Header().Get("Access-Control-Allow-Origin"); w.Code != http.StatusForbidden || got != "https://app.example.com" {
		t.Errorf("status %d, Access-Control-Allow-Origin %q", w.Code, got)
	}
}

func TestCORSVaryIsAppended(t *testing.T) {
	mw, err := middleware.CORSWithConfig(cors("https://app.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Vary", "Accept-Encoding")
			return next(c)
		}
	}, mw)
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Values("Vary"); len(got) != 2 || got[0] != "Accept-Encoding" || got[1] != "Origin" {
		t.Errorf("Vary = %q", got)
	}
}

// FuzzCORSOrigin checks the origin parser through the public API. A
// configured origin is either rejected with an error that quotes it, or
// allows itself. A request Origin, however malformed, never panics, is echoed
// verbatim or not at all, and matching is symmetric: if c allows o, then o is
// a valid configuration that allows c.
func FuzzCORSOrigin(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "HTTP://LOCALHOST:80", "http://[::1]:8080", "https://a.b:0443",
		"https://example.com/", "ftp://x", "null", "*", "http://%61.com", "http://a b", "http://[fe80::1%25en0]",
		"https://xn--nxasmq6b.example", "http://1.2.3.4:65535", "http://:80", "http://a..b",
	} {
		f.Add(s, strings.ToUpper(s))
	}
	f.Fuzz(func(t *testing.T, configured, origin string) {
		if configured == "*" {
			return
		}
		allowed, err := corsAllows(configured, origin)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(configured)) {
				t.Fatalf("error %q does not quote %q", err, configured)
			}
			return
		}
		if self, _ := corsAllows(configured, configured); !self {
			t.Fatalf("configured origin %q does not allow itself", configured)
		}
		if !allowed {
			return
		}
		back, err := corsAllows(origin, configured)
		if err != nil || !back {
			t.Fatalf("%q allows %q but not the reverse (%v)", configured, origin, err)
		}
	})
}

// corsAllows reports whether a CORS middleware configured with the one
// origin configured allows a request from origin.
func corsAllows(configured, origin string) (bool, error) {
	mw, err := middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{configured}})
	if err != nil {
		return false, err
	}
	e := echo.New()
	e.Use(mw)
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["Origin"] = []string{origin}
	got := serve(e, r).Header().Get("Access-Control-Allow-Origin")
	if got != "" && got != origin {
		return false, fmt.Errorf("origin %q answered with %q", origin, got)
	}
	return got != "", nil
}

func ExampleCORSWithConfig() {
	cfg := middleware.DefaultCORSConfig
	cfg.AllowOrigins = []string{"https://app.example.com"}
	cors, err := middleware.CORSWithConfig(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	e := echo.New()
	e.Use(cors)
	e.PUT("/orders/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	// A browser's preflight is answered without reaching the route.
	r := httptest.NewRequest(http.MethodOptions, "/orders/7", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", http.MethodPut)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println(w.Header().Get("Access-Control-Allow-Methods"))

	// A typo in the allow-list fails at start-up.
	cfg.AllowOrigins = []string{"https://app.example.com/"}
	_, err = middleware.CORSWithConfig(cfg)
	fmt.Println(errors.Unwrap(err) == nil, err)
	// Output:
	// 204
	// https://app.example.com
	// GET, HEAD, POST, PUT, PATCH, DELETE
	// true AllowOrigins: invalid origin "https://app.example.com/": must not have a path
}
