package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/troupehq/troupe/internal/redistest"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/problem"
)

// authnServer is an Echo app with Authenticate in front of two routes:
// GET /private (protected) and GET /public (public). Handlers answer with
// the subject they see, or "anonymous".
type authnServer struct {
	e      *echo.Echo
	logs   *bytes.Buffer
	reader *sdkmetric.ManualReader
}

func newAuthnServer(t *testing.T, v *Verifier, withReqInfo bool) *authnServer {
	t.Helper()
	s := &authnServer{e: echo.New(), logs: &bytes.Buffer{}, reader: sdkmetric.NewManualReader()}
	// The service's error handler renders *problem.Error; this is its core.
	s.e.HTTPErrorHandler = func(err error, c echo.Context) {
		var pe *problem.Error
		if !errors.As(err, &pe) {
			t.Errorf("middleware returned %T %v, want *problem.Error", err, err)
			return
		}
		pe.Render(c.Response(), c.Request())
	}
	if withReqInfo {
		s.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				r := c.Request()
				c.SetRequest(r.WithContext(reqinfo.NewContext(r.Context(), &reqinfo.Info{ID: "req-1"})))
				return next(c)
			}
		})
	}
	s.e.Use(Authenticate(AuthenticateConfig{
		Verifier:      v,
		Rule:          func(_, route string) RouteRule { return RouteRule{Public: route == "/public"} },
		Cookie:        "session",
		Logger:        slog.New(slog.NewTextHandler(s.logs, nil)),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader)),
	}))
	who := func(c echo.Context) error {
		if p := FromContext(c.Request().Context()); p != nil {
			return c.String(http.StatusOK, p.Subject)
		}
		return c.String(http.StatusOK, "anonymous")
	}
	s.e.GET("/private", who)
	s.e.GET("/public", who)
	return s
}

func (s *authnServer) do(path string, header http.Header, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

// results returns the authentication outcome counts recorded.
func (s *authnServer) results(t *testing.T) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != telemetry.MetricAuthnResults {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value("troupe.authn.result")
				out[v.AsString()] += dp.Value
			}
		}
	}
	return out
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestAuthenticate(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	good, bad := validRS256(t, nil), validRS256(t, map[string]any{"iss": "https://evil.test"})
	s := newAuthnServer(t, v, true)
	for _, tc := range []struct {
		name      string
		path      string
		header    http.Header
		cookie    string
		status    int
		body      string // for 200
		challenge string // for 401
	}{
		{"valid bearer", "/private", bearer(good), "", 200, "alice", ""},
		{"scheme is case-insensitive", "/private", http.Header{"Authorization": {"bearer " + good}}, "", 200, "alice", ""},
		{"no token", "/private", nil, "", 401, "", challengeMissing},
		{"other scheme", "/private", http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, "", 401, "", challengeMissing},
		{"empty bearer", "/private", http.Header{"Authorization": {"Bearer "}}, "", 401, "", challengeInvalid},
		{"invalid token", "/private", bearer(bad), "", 401, "", challengeInvalid},
		{"garbage", "/private", bearer("not.a.jwt"), "", 401, "", challengeInvalid},
		{"cookie", "/private", nil, good, 200, "alice", ""},
		{"invalid cookie", "/private", nil, bad, 401, "", challengeInvalid},
		{"header wins over cookie", "/private", bearer(good), bad, 200, "alice", ""},
		{"header wins even when invalid", "/private", bearer(bad), good, 401, "", challengeInvalid},
		{"public without token", "/public", nil, "", 200, "anonymous", ""},
		{"public ignores an invalid token", "/public", bearer(bad), "", 200, "anonymous", ""},
		{"public ignores a valid token", "/public", bearer(good), "", 200, "anonymous", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(tc.path, tc.header, tc.cookie)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				if rec.Body.String() != tc.body {
					t.Errorf("body %q, want %q", rec.Body, tc.body)
				}
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			var doc struct {
				Status    int    `json:"status"`
				Detail    string `json:"detail"`
				RequestID string `json:"request_id"`
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if doc.Status != 401 || doc.Detail != invalidTokenDetail || doc.RequestID != "req-1" {
				t.Errorf("problem = %+v", doc)
			}
		})
	}
	// The reason is logged, with the request's context; it is never sent.
	rec := s.do("/private", bearer(bad), "")
	if strings.Contains(rec.Body.String(), "issuer") {
		t.Errorf("the response names the failed check: %s", rec.Body)
	}
	if !strings.Contains(s.logs.String(), "wrong issuer") {
		t.Errorf("log does not give the reason:\n%s", s.logs)
	}
	got := s.results(t)
	want := map[string]int64{"ok": 4, "missing": 2, "invalid": 6}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("authn results = %v, want %v", got, want)
			break
		}
	}
}

func TestAuthenticateStoresPrincipal(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	tok := validRS256(t, map[string]any{"roles": []string{"admin"}})
	for _, withInfo := range []bool{true, false} {
		e := echo.New()
		var info *reqinfo.Info
		if withInfo {
			e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					info = &reqinfo.Info{ID: "r"}
					r := c.Request()
					c.SetRequest(r.WithContext(reqinfo.NewContext(r.Context(), info)))
					return next(c)
				}
			})
		}
		var seen *Principal
		var ctxReplaced bool
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				before := c.Request().Context()
				err := next(c)
				ctxReplaced = c.Request().Context() != before
				return err
			}
		})
		e.Use(Authenticate(AuthenticateConfig{Verifier: v}))
		e.GET("/x", func(c echo.Context) error {
			seen = FromContext(c.Request().Context())
			return c.NoContent(http.StatusNoContent)
		})
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent || seen == nil || !seen.HasRole("admin") {
			t.Fatalf("withInfo=%v: status %d, principal %+v", withInfo, rec.Code, seen)
		}
		if withInfo && (info.Principal != seen || ctxReplaced) {
			t.Errorf("with reqinfo the principal must go into Info without a context copy (replaced=%v)", ctxReplaced)
		}
		if !withInfo && !ctxReplaced {
			t.Error("without reqinfo the principal must go into a new request context")
		}
	}
}

func TestAuthenticateRevocationStoreDown(t *testing.T) {
	srv := redistest.Start(t)
	cfg := jwtConfig(t)
	cfg.Revocation = NewRedisRevocationStore(srv.Client(t), "revoked:")
	v := newTestVerifier(t, cfg)
	s := newAuthnServer(t, v, true)
	tok := validRS256(t, nil)
	if rec := s.do("/private", bearer(tok), ""); rec.Code != http.StatusOK {
		t.Fatalf("status %d with redis up", rec.Code)
	}
	srv.Kill()
	rec := s.do("/private", bearer(tok), "")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d with redis down, want 503 (fail closed)", rec.Code)
	}
	if rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), unavailableDetail) {
		t.Errorf("503 without Retry-After or detail: %v %s", rec.Header(), rec.Body)
	}
	if !strings.Contains(s.logs.String(), "authentication unavailable") {
		t.Errorf("outage not logged:\n%s", s.logs)
	}
	if got := s.results(t); got["unavailable"] != 1 {
		t.Errorf("authn results = %v, want one unavailable", got)
	}
}

// TestAuthenticateOutageLogBounded checks that a revocation store outage,
// which fails every request at once, logs one ERROR line per interval with
// the count held back, not one per request: during a Redis outage that is
// thousands of lines a second. Every request still gets its 503 and its
// count in the metric.
func TestAuthenticateOutageLogBounded(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.Revocation = failingStore{}
	s := newAuthnServer(t, newTestVerifier(t, cfg), true)
	tok := validRS256(t, nil)
	const burst = 50
	for range burst {
		if rec := s.do("/private", bearer(tok), ""); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d with the store down, want 503", rec.Code)
		}
	}
	if n := strings.Count(s.logs.String(), "authentication unavailable"); n != 1 {
		t.Errorf("%d outage lines for %d requests, want 1:\n%s", n, burst, s.logs)
	}
	if got := s.results(t); got["unavailable"] != burst {
		t.Errorf("authn results = %v, want %d unavailable", got, burst)
	}

	// The next interval's first line says how many were held back.
	var logs bytes.Buffer
	a := newAuthenticator(AuthenticateConfig{Verifier: newTestVerifier(t, cfg), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	req := httptest.NewRequest(http.MethodGet, "/private", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	for i := range 5 {
		now = now.Add(outageLogEvery / 4) // a line at the first request and one 10s later, the 3 between held back
		if _, err := a.authenticate(req, "/private"); err == nil {
			t.Fatalf("request %d passed with the store down", i)
		}
	}
	if got := strings.Count(logs.String(), "authentication unavailable"); got != 2 {
		t.Errorf("%d lines over %s, want 2:\n%s", got, 5*outageLogEvery/4, &logs)
	}
	if !strings.Contains(logs.String(), "suppressed=3") {
		t.Errorf("the second line does not count the 3 held back:\n%s", &logs)
	}
}
