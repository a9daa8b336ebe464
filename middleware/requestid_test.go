package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/middleware"
)

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming []string // values of X-Request-ID; nil sends none
		wantEcho bool     // the incoming ID is kept
	}{
		{name: "none", incoming: nil},
		{name: "uuid", incoming: []string{"3f2504e0-4f89-11d3-9a0c-0305e82c3301"}, wantEcho: true},
		{name: "trace style", incoming: []string{"svc.orders:42_retry-1"}, wantEcho: true},
		{name: "128 characters", incoming: []string{strings.Repeat("a", 128)}, wantEcho: true},
		{name: "empty", incoming: []string{""}},
		{name: "129 characters", incoming: []string{strings.Repeat("a", 129)}},
		{name: "space", incoming: []string{"abc def"}},
		{name: "CRLF log forging", incoming: []string{"abc\r\nlevel=ERROR msg=forged"}},
		{name: "quote", incoming: []string{`abc"}`}},
		{name: "unicode", incoming: []string{"ид-запроса"}},
		{name: "first of several wins", incoming: []string{"first", "second"}, wantEcho: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seenCtx string
			e := coreEcho(nil, middleware.RequestID())
			e.GET("/", func(c echo.Context) error {
				seenCtx = middleware.RequestIDFrom(c.Request().Context())
				return c.NoContent(http.StatusNoContent)
			})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header[http.CanonicalHeaderKey(middleware.HeaderRequestID)] = tt.incoming
			w := serve(e, r)

			got := w.Header().Values(middleware.HeaderRequestID)
			if len(got) != 1 {
				t.Fatalf("response has %d X-Request-ID values, want 1", len(got))
			}
			id := got[0]
			if tt.wantEcho && id != tt.incoming[0] {
				t.Errorf("id = %q, want the incoming %q", id, tt.incoming[0])
			}
			if !tt.wantEcho {
				if len(tt.incoming) > 0 && id == tt.incoming[0] {
					t.Errorf("invalid incoming id %q was echoed", id)
				}
				if len(id) != 26 || !middleware.ValidRequestID(id) {
					t.Errorf("generated id %q, want 26 valid characters", id)
				}
			}
			if seenCtx != id {
				t.Errorf("handler saw %q in its context, response %q", seenCtx, id)
			}
		})
	}
}

func TestRequestIDGeneratesUniqueIDs(t *testing.T) {
	e := coreEcho(nil, middleware.RequestID())
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	seen := make(map[string]bool)
	for range 100 {
		id := serve(e, httptest.NewRequest(http.MethodGet, "/", nil)).Header().Get(middleware.HeaderRequestID)
		if seen[id] {
			t.Fatalf("id %q generated twice", id)
		}
		seen[id] = true
	}
}

func TestRequestIDWithConfig(t *testing.T) {
	e := coreEcho(nil, middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Header:    "x-correlation-id",
		Generator: func() string { return "generated" },
		Valid:     func(id string) bool { return strings.HasPrefix(id, "ok-") },
	}))
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	for incoming, want := range map[string]string{"ok-1": "ok-1", "bad-1": "generated", "": "generated"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Correlation-Id", incoming)
		w := serve(e, r)
		if got := w.Header().Get("X-Correlation-Id"); got != want {
			t.Errorf("incoming %q: got %q, want %q", incoming, got, want)
		}
		if w.Header().Get(middleware.HeaderRequestID) != "" {
			t.Errorf("incoming %q: X-Request-ID set despite the custom header", incoming)
		}
	}
}

func TestRequestIDFromWithoutMiddleware(t *testing.T) {
	if got := middleware.RequestIDFrom(httptest.NewRequest(http.MethodGet, "/", nil).Context()); got != "" {
		t.Errorf("RequestIDFrom = %q, want empty", got)
	}
}

func TestValidRequestID(t *testing.T) {
	tests := map[string]bool{
		"a":                      true,
		"A-z_0.9:x":              true,
		strings.Repeat("7", 128): true,
		"":                       false,
		strings.Repeat("7", 129): false,
		"a b":                    false,
		"a\nb":                   false,
		"a\x00":                  false,
		"a'b":                    false,
		`a"b`:                    false,
		"a/b":                    false,
		"é":                      false,
	}
	for id, want := range tests {
		if got := middleware.ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{"", "a", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "a b", "a\r\nb", "ид", strings.Repeat("z", 129)} {
		f.Add(s)
	}
	e := coreEcho(nil, middleware.RequestID())
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	f.Fuzz(func(t *testing.T, id string) {
		valid := middleware.ValidRequestID(id)
		if valid != validRequestIDReference(id) {
			t.Fatalf("ValidRequestID(%q) = %v", id, valid)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header[http.CanonicalHeaderKey(middleware.HeaderRequestID)] = []string{id}
		got := serve(e, r).Header().Get(middleware.HeaderRequestID)
		if (got == id) != valid {
			t.Fatalf("incoming %q (valid %v) answered with %q", id, valid, got)
		}
		if !middleware.ValidRequestID(got) {
			t.Fatalf("answered with invalid id %q", got)
		}
	})
}

// validRequestIDReference restates the documented rule independently.
func validRequestIDReference(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-"
	for _, r := range id {
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

func ExampleRequestID() {
	e := echo.New()
	e.Use(middleware.RequestID())
	e.GET("/", func(c echo.Context) error {
		return c.String(http.StatusOK, middleware.RequestIDFrom(c.Request().Context()))
	})

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(middleware.HeaderRequestID, "upstream-7")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	fmt.Println(w.Header().Get(middleware.HeaderRequestID), w.Body)

	r.Header.Set(middleware.HeaderRequestID, "not valid\r\n")
	w = httptest.NewRecorder()
	e.ServeHTTP(w, r)
	fmt.Println(len(w.Header().Get(middleware.HeaderRequestID)))
	// Output:
	// upstream-7 upstream-7
	// 26
}

// TestRequestIDRecordsRouteAndClientIP checks that the request-ID stage
// records, once, what every Echo-free stage further in reads instead of
// asking Echo: the matched route template ("" when no route matched) and
// the client IP by the service's trusted-proxy rule.
func TestRequestIDRecordsRouteAndClientIP(t *testing.T) {
	clientIP, err := middleware.NewClientIP([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	var seen *reqinfo.Info
	probe := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			seen = reqinfo.FromContext(c.Request().Context())
			return next(c)
		}
	}
	e := echo.New()
	e.IPExtractor = clientIP
	e.Use(middleware.Chain(middleware.Stages{RequestID: middleware.RequestID(), CircuitBreaker: probe}))
	e.GET("/orders/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	for _, tt := range []struct {
		method, path, remote, xff string
		wantRoute, wantIP         string
	}{
		{http.MethodGet, "/orders/7", "10.1.2.3:4000", "198.51.100.7", "/orders/:id", "198.51.100.7"},
		{http.MethodGet, "/orders/7", "203.0.113.5:4000", "198.51.100.7", "/orders/:id", "203.0.113.5"},
		{http.MethodPost, "/orders/7", "203.0.113.5:4000", "", "", "203.0.113.5"}, // 405
		{http.MethodGet, "/missing", "203.0.113.5:4000", "", "", "203.0.113.5"},   // 404
	} {
		seen = nil
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		e.ServeHTTP(httptest.NewRecorder(), r)
		if seen == nil {
			t.Fatalf("%s %s: no reqinfo.Info reached the inner stages", tt.method, tt.path)
		}
		if seen.Route != tt.wantRoute || seen.ClientIP != tt.wantIP {
			t.Errorf("%s %s from %s: Route %q, ClientIP %q; want %q, %q",
				tt.method, tt.path, tt.remote, seen.Route, seen.ClientIP, tt.wantRoute, tt.wantIP)
		}
	}
}
