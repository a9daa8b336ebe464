package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/syncbuf"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/problem"
)

// coreLog collects JSON log records; the server writes from its goroutines
// while the test reads.
type coreLog struct {
	syncbuf.Buffer
}

func (l *coreLog) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// find returns the records with message msg.
func (l *coreLog) find(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range l.records(t) {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func newCoreLog() (*coreLog, *slog.Logger) {
	l := &coreLog{}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// coreEcho returns an Echo with Troupe's error handler and mws; a nil logger
// discards.
func coreEcho(logger *slog.Logger, mws ...echo.MiddlewareFunc) *echo.Echo {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(logger)
	e.Use(mws...)
	return e
}

func serve(e *echo.Echo, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// readProblem decodes a problem response, failing unless it is one.
func readProblem(t *testing.T, w *httptest.ResponseRecorder) problem.Details {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("Content-Type = %q, want %q; body %s", ct, problem.ContentType, w.Body)
	}
	var p problem.Details
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body, err)
	}
	if p.Status != w.Code {
		t.Fatalf("problem status %d, response status %d", p.Status, w.Code)
	}
	return p
}

func TestErrorHandlerMapsErrors(t *testing.T) {
	dbErr := errors.New("dial tcp 10.0.0.7:5432: password authentication failed")
	tests := []struct {
		name       string
		method     string
		err        error
		wantStatus int
		wantDetail string
		wantHeader map[string]string
		wantLevel  string
	}{
		{
			name:       "problem error renders itself",
			err:        problem.NewError(http.StatusTooManyRequests, "Slow down.").WithHeader("Retry-After", "7"),
			wantStatus: http.StatusTooManyRequests,
			wantDetail: "Slow down.",
			wantHeader: map[string]string{"Retry-After": "7"},
			wantLevel:  "DEBUG",
		},
		{
			name:       "max bytes error",
			err:        &http.MaxBytesError{Limit: 10},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantDetail: "The request body exceeds the limit of 10 bytes.",
			wantLevel:  "DEBUG",
		},
		{
			name:       "max bytes error wrapped by a binder",
			err:        echo.NewHTTPError(http.StatusBadRequest, "bad body").SetInternal(fmt.Errorf("decode: %w", &http.MaxBytesError{Limit: 10})),
			wantStatus: http.StatusRequestEntityTooLarge,
			wantDetail: "The request body exceeds the limit of 10 bytes.",
			wantLevel:  "DEBUG",
		},
		{
			name:       "echo 4xx keeps its message",
			err:        echo.NewHTTPError(http.StatusBadRequest, "id must be numeric"),
			wantStatus: http.StatusBadRequest,
			wantDetail: "id must be numeric",
			wantLevel:  "DEBUG",
		},
		{
			name:       "echo error with the status text has no detail",
			err:        echo.ErrUnauthorized,
			wantStatus: http.StatusUnauthorized,
			wantLevel:  "DEBUG",
		},
		{
			name:       "echo 5xx hides its message",
			err:        echo.NewHTTPError(http.StatusBadGateway, dbErr.Error()),
			wantStatus: http.StatusBadGateway,
			wantDetail: "The server could not complete the request.",
			wantLevel:  "ERROR",
		},
		{
			name:       "echo error wrapping an echo error uses the inner one",
			err:        echo.NewHTTPError(http.StatusInternalServerError).SetInternal(echo.NewHTTPError(http.StatusConflict, "version mismatch")),
			wantStatus: http.StatusConflict,
			wantDetail: "version mismatch",
			wantLevel:  "DEBUG",
		},
		{
			name:       "deadline exceeded",
			err:        fmt.Errorf("query: %w", context.DeadlineExceeded),
			wantStatus: http.StatusServiceUnavailable,
			wantDetail: "The request did not complete within its time limit.",
			wantLevel:  "WARN",
		},
		{
			name:       "canceled while the client is still there",
			err:        context.Canceled,
			wantStatus: http.StatusServiceUnavailable,
			wantDetail: "The server could not complete the request.",
			wantLevel:  "WARN",
		},
		{
			name:       "anything else is a generic 500",
			err:        dbErr,
			wantStatus: http.StatusInternalServerError,
			wantDetail: "The server encountered an unexpected condition.",
			wantLevel:  "ERROR",
		},
		{
			name:       "HEAD gets the status without a body",
			method:     http.MethodHead,
			err:        dbErr,
			wantStatus: http.StatusInternalServerError,
			wantLevel:  "ERROR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newCoreLog()
			e := coreEcho(logger, middleware.RequestID())
			e.Any("/x", func(echo.Context) error { return tt.err })
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			w := serve(e, httptest.NewRequest(method, "/x", nil))

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if strings.Contains(w.Body.String(), "10.0.0.7") {
				t.Errorf("body leaks the cause: %s", w.Body)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if method == http.MethodHead {
				if w.Body.Len() != 0 {
					t.Errorf("HEAD body = %q, want empty", w.Body)
				}
			} else {
				p := readProblem(t, w)
				if p.Detail != tt.wantDetail {
					t.Errorf("detail = %q, want %q", p.Detail, tt.wantDetail)
				}
				if p.RequestID == "" || p.RequestID != w.Header().Get(middleware.HeaderRequestID) {
					t.Errorf("problem request_id = %q, header %q", p.RequestID, w.Header().Get(middleware.HeaderRequestID))
				}
			}
			recs := logs.find(t, "request failed")
			if len(recs) != 1 {
				t.Fatalf("got %d error records, want 1: %v", len(recs), logs.records(t))
			}
			if recs[0]["level"] != tt.wantLevel || recs[0]["request_id"] == "" || recs[0]["error"] != tt.err.Error() {
				t.Errorf("log record = %v, want level %s with request_id and error", recs[0], tt.wantLevel)
			}
		})
	}
}

func TestErrorHandlerRouterErrors(t *testing.T) {
	_, logger := newCoreLog()
	e := coreEcho(logger)
	e.GET("/orders", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.POST("/orders", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	w := serve(e, httptest.NewRequest(http.MethodGet, "/missing", nil))
	if p := readProblem(t, w); p.Status != http.StatusNotFound || p.Instance != "/missing" {
		t.Errorf("404 problem = %+v", p)
	}

	w = serve(e, httptest.NewRequest(http.MethodDelete, "/orders", nil))
	readProblem(t, w)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", w.Code)
	}
	allow := w.Header().Get("Allow")
	if !strings.Contains(allow, http.MethodGet) || !strings.Contains(allow, http.MethodPost) {
		t.Errorf("Allow = %q, want GET and POST", allow)
	}
}

func TestErrorHandlerWritesNothingWhenTheClientHasGone(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger)
	e.GET("/x", func(c echo.Context) error { return c.Request().Context().Err() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := serve(e, httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(ctx))

	if w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("wrote %d %v %q to a departed client", w.Code, w.Header(), w.Body)
	}
	if recs := logs.find(t, "request abandoned by the client"); len(recs) != 1 || recs[0]["level"] != "DEBUG" {
		t.Errorf("records = %v, want one DEBUG record", logs.records(t))
	}
}

func TestErrorHandlerOnlyLogsOnceCommitted(t *testing.T) {
	logs, logger := newCoreLog()
	e := coreEcho(logger)
	e.GET("/x", func(c echo.Context) error {
		if err := c.String(http.StatusOK, "partial"); err != nil {
			return err
		}
		return errors.New("stream broke")
	})
	w := serve(e, httptest.NewRequest(http.MethodGet, "/x", nil))

	if w.Code != http.StatusOK || w.Body.String() != "partial" {
		t.Errorf("response = %d %q, want the committed 200 untouched", w.Code, w.Body)
	}
	recs := logs.find(t, "error after the response was committed")
	if len(recs) != 1 || recs[0]["error"] != "stream broke" || recs[0]["status"] != float64(200) {
		t.Errorf("records = %v", logs.records(t))
	}
}

// coreChain is the production order of every piece in this package but
// compression, with a small body limit and timeout.
func coreChain(t *testing.T, logger *slog.Logger) []echo.MiddlewareFunc {
	t.Helper()
	cors, err := middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return []echo.MiddlewareFunc{middleware.Chain(middleware.Stages{
		Recover:         middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}),
		RequestID:       middleware.RequestID(),
		AccessLog:       middleware.AccessLog(logger),
		SecurityHeaders: middleware.SecurityHeaders(),
		CORS:            cors,
		BodyLimit:       middleware.BodyLimit(8),
		Timeout:         middleware.Timeout(coreTestTimeout),
	})}
}

func TestChainErrorResponsesCarryRequestIDAndCORS(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		handler echo.HandlerFunc
		want    int
	}{
		{
			name: "413 from the body limit",
			body: "far more than eight bytes",
			want: http.StatusRequestEntityTooLarge,
		},
		{
			name: "503 from the timeout",
			handler: func(c echo.Context) error {
				<-c.Request().Context().Done()
				return c.String(http.StatusOK, "too late")
			},
			want: http.StatusServiceUnavailable,
		},
		{
			name:    "500 from a panic",
			handler: func(echo.Context) error { panic("boom") },
			want:    http.StatusInternalServerError,
		},
		{
			name:    "404 from the router",
			handler: nil,
			want:    http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newCoreLog()
			e := coreEcho(logger, coreChain(t, logger)...)
			path := "/missing"
			if tt.handler != nil || tt.body != "" {
				path = "/x"
				h := tt.handler
				if h == nil {
					h = func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
				}
				e.POST("/x", h)
			}
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tt.body))
			r.Header.Set("Origin", "https://app.example.com")
			r.Header.Set(middleware.HeaderRequestID, "req-42")
			w := serve(e, r)

			p := readProblem(t, w)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if got := w.Header().Get(middleware.HeaderRequestID); got != "req-42" || p.RequestID != "req-42" {
				t.Errorf("X-Request-ID = %q, problem request_id = %q, want req-42", got, p.RequestID)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
				t.Errorf("Access-Control-Allow-Origin = %q", got)
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			recs := logs.find(t, "request")
			if len(recs) != 1 || recs[0]["status"] != float64(tt.want) {
				t.Errorf("access log = %v, want one record with status %d", recs, tt.want)
			}
		})
	}
}

func ExampleErrorHandler() {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(middleware.RequestID())

	r := httptest.NewRequest(http.MethodGet, "/missing", nil)
	r.Header.Set(middleware.HeaderRequestID, "example-1")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)

	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	_, _ = os.Stdout.Write(w.Body.Bytes())
	fmt.Println()
	// Output:
	// 404 application/problem+json
	// {"type":"about:blank","title":"Not Found","status":404,"instance":"/missing","request_id":"example-1"}
}
