package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/middleware"
)

func TestAccessLogRecord(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger, middleware.RequestID(), middleware.AccessLog(logger))
	e.POST("/v1/orders/:id", func(c echo.Context) error {
		reqinfo.FromContext(c.Request().Context()).APIVersion = "v1"
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusCreated, strings.ToUpper(string(body)))
	})
	r := httptest.NewRequest(http.MethodPost, "/v1/orders/42", strings.NewReader("hello"))
	r.Header.Set("User-Agent", "orders-test/1.0")
	r.Header.Set("X-Real-IP", "203.0.113.9")
	r.Header.Set(middleware.HeaderRequestID, "req-1")
	serve(e, r)

	recs := logs.find(t, "request")
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	want := map[string]any{
		"level":       "INFO",
		"method":      "POST",
		"route":       "/v1/orders/:id",
		"path":        "/v1/orders/42",
		"status":      float64(201),
		"bytes_in":    float64(5),
		"bytes_out":   float64(5),
		"request_id":  "req-1",
		"remote_ip":   "203.0.113.9",
		"user_agent":  "orders-test/1.0",
		"api_version": "v1",
	}
	for k, v := range want {
		if recs[0][k] != v {
			t.Errorf("%s = %v, want %v", k, recs[0][k], v)
		}
	}
	if d, ok := recs[0]["duration"].(float64); !ok || d < 0 {
		t.Errorf("duration = %v, want a non-negative number", recs[0]["duration"])
	}
	if _, ok := recs[0]["headers"]; ok {
		t.Error("headers logged without LogHeaders")
	}
}

func TestAccessLogStatusAndLevel(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		handler   echo.HandlerFunc
		ctx       func() context.Context
		wantCode  int
		wantLevel string
	}{
		{
			name:      "success",
			path:      "/x",
			handler:   func(c echo.Context) error { return c.NoContent(http.StatusNoContent) },
			wantCode:  http.StatusNoContent,
			wantLevel: "INFO",
		},
		{
			name:      "router 404 is rendered before logging",
			path:      "/missing",
			wantCode:  http.StatusNotFound,
			wantLevel: "INFO",
		},
		{
			name:      "returned error is rendered before logging",
			path:      "/x",
			handler:   func(echo.Context) error { return errors.New("broken") },
			wantCode:  http.StatusInternalServerError,
			wantLevel: "ERROR",
		},
		{
			name:      "client gone before a response",
			path:      "/x",
			handler:   func(c echo.Context) error { return c.Request().Context().Err() },
			ctx:       func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx },
			wantCode:  499,
			wantLevel: "INFO",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newCoreLog()
			e := coreEcho(logger, middleware.AccessLog(logger))
			if tt.handler != nil {
				e.GET("/x", tt.handler)
			}
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.ctx != nil {
				r = r.WithContext(tt.ctx())
			}
			w := serve(e, r)

			if tt.wantCode != 499 && w.Code != tt.wantCode {
				t.Errorf("response status = %d, want %d", w.Code, tt.wantCode)
			}
			recs := logs.find(t, "request")
			if len(recs) != 1 || recs[0]["status"] != float64(tt.wantCode) || recs[0]["level"] != tt.wantLevel {
				t.Errorf("records = %v, want one %s with status %d", recs, tt.wantLevel, tt.wantCode)
			}
		})
	}
}

func TestAccessLogPanicKeepsOriginalStack(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger, middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}), middleware.AccessLog(logger))
	e.GET("/x", panickingHandler)
	w := serve(e, httptest.NewRequest(http.MethodGet, "/x", nil))

	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
	if recs := logs.find(t, "request"); len(recs) != 1 || recs[0]["status"] != float64(500) || recs[0]["level"] != "ERROR" {
		t.Errorf("access records = %v, want one ERROR with status 500", recs)
	}
	panics := logs.find(t, "panic recovered")
	if len(panics) != 1 || !strings.Contains(panics[0]["stack"].(string), "panickingHandler") {
		t.Errorf("panic records = %v, want the stack of panickingHandler", panics)
	}
}

func panickingHandler(echo.Context) error { panic("deep bug") }

func TestAccessLogChunkedBodyCounted(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger, middleware.AccessLog(logger))
	e.POST("/x", func(c echo.Context) error {
		_, err := io.Copy(io.Discard, c.Request().Body)
		return err
	})
	r := httptest.NewRequest(http.MethodPost, "/x", io.MultiReader(strings.NewReader("abc"), strings.NewReader("defg")))
	r.ContentLength = -1
	serve(e, r)

	if recs := logs.find(t, "request"); len(recs) != 1 || recs[0]["bytes_in"] != float64(7) {
		t.Errorf("records = %v, want bytes_in 7", recs)
	}
}

func TestAccessLogHeadersRedacted(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger, middleware.AccessLogWithConfig(middleware.AccessLogConfig{
		Logger:        logger,
		LogHeaders:    true,
		RedactHeaders: []string{"x-tenant-secret"},
	}))
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	for k, v := range map[string]string{
		"Authorization":       "Bearer eyJhbGciOi",
		"Proxy-Authorization": "Basic Zm9vOmJhcg==",
		"Cookie":              "session=abc",
		"X-Api-Key":           "key-123",
		"X-Tenant-Secret":     "s3cr3t",
		"Accept":              "application/json",
	} {
		r.Header.Set(k, v)
	}
	serve(e, r)

	recs := logs.find(t, "request")
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	headers, _ := recs[0]["headers"].(map[string]any)
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Tenant-Secret"} {
		if headers[k] != "[redacted]" {
			t.Errorf("%s = %v, want [redacted]", k, headers[k])
		}
	}
	if headers["Accept"] != "application/json" {
		t.Errorf("Accept = %v, want it logged", headers["Accept"])
	}
	for _, secret := range []string{"eyJhbGciOi", "Zm9vOmJhcg", "session=abc", "key-123", "s3cr3t"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log leaks %q", secret)
		}
	}
}

// recordingHandler keeps the records it is given.
type recordingHandler struct {
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r.Clone())
	return nil
}

func TestAccessLogRecordHasNoSource(t *testing.T) {
	rec := &recordingHandler{}
	var out strings.Builder
	withSource := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{AddSource: true}))
	e := coreEcho(nil, middleware.AccessLog(slog.New(rec)), middleware.AccessLog(withSource))
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	serve(e, httptest.NewRequest(http.MethodGet, "/x", nil))

	if len(rec.records) != 1 {
		t.Fatalf("got %d records, want 1", len(rec.records))
	}
	if r := rec.records[0]; r.PC != 0 || r.Source() != nil || r.Time.IsZero() || r.Message != "request" {
		t.Errorf("record PC = %#x, Source = %v, Time = %v, Message = %q; want no PC or source, a time and \"request\"",
			r.PC, r.Source(), r.Time, r.Message)
	}
	if strings.Contains(out.String(), `"source"`) || !strings.Contains(out.String(), `"msg":"request"`) {
		t.Errorf("with AddSource the line is %s; want a request record without source", out.String())
	}
}

// TestAccessLogFastPathMatchesRecordPath serves requests through two access
// logs at once: one with logjson, which the middleware writes to directly,
// and one with slog.JSONHandler, which gets a slog.Record. The lines must
// agree but for the time and duration.
func TestAccessLogFastPathMatchesRecordPath(t *testing.T) {
	derive := map[string]func(*slog.Logger) *slog.Logger{
		"plain":     func(l *slog.Logger) *slog.Logger { return l },
		"With":      func(l *slog.Logger) *slog.Logger { return l.With("service", "orders") },
		"WithGroup": func(l *slog.Logger) *slog.Logger { return l.With("service", "orders").WithGroup("http") },
	}
	for name, d := range derive {
		t.Run(name, func(t *testing.T) {
			var fastOut, refOut strings.Builder
			config := func(l *slog.Logger) middleware.AccessLogConfig {
				return middleware.AccessLogConfig{Logger: d(l), LogHeaders: true}
			}
			e := coreEcho(nil, middleware.RequestID(),
				middleware.AccessLogWithConfig(config(slog.New(slog.NewJSONHandler(&refOut, nil)))),
				middleware.AccessLogWithConfig(config(slog.New(logjson.New(&fastOut, nil)))))
			e.GET("/v1/x", func(c echo.Context) error {
				reqinfo.FromContext(c.Request().Context()).APIVersion = "v1"
				return c.String(http.StatusOK, "ok")
			})
			e.GET("/fail", func(echo.Context) error { return errors.New("broken") })
			for _, path := range []string{"/v1/x", "/fail", "/missing"} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				r.Header.Set("User-Agent", "agent \"quoted\" <&>")
				r.Header.Set("Authorization", "Bearer secret")
				serve(e, r)
			}
			fast, ref := decodeLines(t, fastOut.String()), decodeLines(t, refOut.String())
			if len(fast) != 3 || !reflect.DeepEqual(fast, ref) {
				t.Errorf("logjson records\n%v\ndiffer from slog.JSONHandler's\n%v", fast, ref)
			}
		})
	}
}

// decodeLines decodes JSON lines without their time and duration, which
// differ from one record of a request to the next.
func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		delete(m, "time")
		delete(m, "duration")
		if g, ok := m["http"].(map[string]any); ok {
			delete(g, "duration")
		}
		recs = append(recs, m)
	}
	return recs
}

func ExampleAccessLog() {
	// Drop the fields that change from run to run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(logger)
	e.Use(middleware.RequestID(), middleware.AccessLog(logger))
	e.GET("/orders/:id", func(c echo.Context) error { return c.String(http.StatusOK, "order") })

	r := httptest.NewRequest(http.MethodGet, "/orders/7", nil)
	r.Header.Set(middleware.HeaderRequestID, "req-7")
	r.Header.Set("User-Agent", "example")
	e.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=INFO msg=request method=GET route=/orders/:id path=/orders/7 status=200 bytes_in=0 bytes_out=5 request_id=req-7 remote_ip=192.0.2.1 user_agent=example
}
