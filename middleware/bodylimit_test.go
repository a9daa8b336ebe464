package middleware_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/middleware"
)

// onlyReader hides every method but Read, so httptest cannot learn the
// length: the request is sent as if chunked.
type onlyReader struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	readAll := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(len(b)))
	}
	bind := func(c echo.Context) error {
		var v map[string]string
		if err := c.Bind(&v); err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprint(len(v)))
	}
	tests := []struct {
		name       string
		limit      int64
		body       io.Reader
		handler    echo.HandlerFunc
		wantStatus int
		wantRead   bool // the handler ran
	}{
		{name: "under the limit", limit: 10, body: strings.NewReader("0123456789"), handler: readAll, wantStatus: http.StatusOK, wantRead: true},
		{name: "declared length over the limit", limit: 10, body: strings.NewReader("0123456789A"), handler: readAll, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "chunked body over the limit", limit: 10, body: onlyReader{strings.NewReader(strings.Repeat("x", 100))}, handler: readAll, wantStatus: http.StatusRequestEntityTooLarge, wantRead: true},
		{name: "chunked body under the limit", limit: 10, body: onlyReader{strings.NewReader("short")}, handler: readAll, wantStatus: http.StatusOK, wantRead: true},
		{name: "chunked JSON over the limit through Bind", limit: 10, body: onlyReader{strings.NewReader(`{"a":"` + strings.Repeat("x", 100) + `"}`)}, handler: bind, wantStatus: http.StatusRequestEntityTooLarge, wantRead: true},
		{name: "zero is unlimited", limit: 0, body: strings.NewReader(strings.Repeat("x", 1<<16)), handler: readAll, wantStatus: http.StatusOK, wantRead: true},
		{name: "negative is unlimited", limit: -1, body: onlyReader{strings.NewReader(strings.Repeat("x", 1<<16))}, handler: readAll, wantStatus: http.StatusOK, wantRead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			e := coreEcho(nil, middleware.RequestID(), middleware.BodyLimit(tt.limit))
			e.POST("/upload", func(c echo.Context) error {
				ran = true
				return tt.handler(c)
			})
			r := httptest.NewRequest(http.MethodPost, "/upload", tt.body)
			r.Header.Set("Content-Type", "application/json")
			w := serve(e, r)

			if w.Code != tt.wantStatus || ran != tt.wantRead {
				t.Fatalf("status %d, handler ran %v; want %d, %v (body %s)", w.Code, ran, tt.wantStatus, tt.wantRead, w.Body)
			}
			if w.Code == http.StatusRequestEntityTooLarge {
				p := readProblem(t, w)
				if p.Detail != "The request body exceeds the limit of 10 bytes." || p.RequestID == "" {
					t.Errorf("problem = %+v", p)
				}
			}
		})
	}
}

func TestBodyLimitOverRealConnection(t *testing.T) {
	e := coreEcho(nil, middleware.BodyLimit(1024))
	e.POST("/upload", func(c echo.Context) error {
		_, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	for name, body := range map[string]io.Reader{
		"declared": strings.NewReader(strings.Repeat("x", 4096)),
		"chunked":  onlyReader{strings.NewReader(strings.Repeat("x", 4096))},
	} {
		resp, err := http.Post(srv.URL+"/upload", "text/plain", body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want a 413 problem", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func ExampleBodyLimit() {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(nil)
	e.Use(middleware.BodyLimit(4))
	e.POST("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("too long")))
	fmt.Println(w.Code, w.Body)
	// Output:
	// 413 {"type":"about:blank","title":"Request Entity Too Large","status":413,"detail":"The request body exceeds the limit of 4 bytes.","instance":"/"}
}

// deadlineBody fails its first read the way a connection past its read
// deadline does.
type deadlineBody struct{}

func (deadlineBody) Read([]byte) (int, error) {
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

func TestSlowRequestBodyIsA408NotA500(t *testing.T) {
	for _, limit := range []int64{0, 1 << 20} {
		logs, logger := newCoreLog()
		e := coreEcho(logger, middleware.BodyLimit(limit))
		e.POST("/", func(c echo.Context) error {
			var v map[string]any
			if err := json.NewDecoder(c.Request().Body).Decode(&v); err != nil {
				// As a handler typically does: wrap the decoding error.
				return echo.NewHTTPError(http.StatusBadRequest, "bad JSON").SetInternal(err)
			}
			return c.NoContent(http.StatusNoContent)
		})
		r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(deadlineBody{}))
		r.ContentLength = -1
		w := serve(e, r)
		if w.Code != http.StatusRequestTimeout || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("limit %d: slow body = %d %s, want 408 problem", limit, w.Code, w.Body)
		}
		if strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("limit %d: a slow client was logged as a server error: %s", limit, logs)
		}
	}

	// A handler's own dependency timing out is not the client's fault.
	_, logger := newCoreLog()
	e := coreEcho(logger, middleware.BodyLimit(0))
	e.GET("/", func(c echo.Context) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	})
	if w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil)); w.Code != http.StatusInternalServerError {
		t.Errorf("dependency timeout = %d, want 500", w.Code)
	}
}
