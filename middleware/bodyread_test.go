package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/problem"
)

// failingBody returns some bytes, then err on every read.
type failingBody struct {
	data string
	err  error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if b.data != "" {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	return 0, b.err
}

func (b *failingBody) Close() error { return nil }

// TestBodyReadErrorsAreTheClients reads bodies that fail the ways a
// connection's do, through the handlers that commonly meet them: each is
// the client's fault (4xx or nothing sent, logged below ERROR, marked for
// the breaker) whatever the handler wrapped it in; a read after the handler
// closed the body stays the server's.
func TestBodyReadErrorsAreTheClients(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	closed := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	handlers := map[string]echo.HandlerFunc{
		"returned": func(c echo.Context) error {
			_, err := io.ReadAll(c.Request().Body)
			return err
		},
		"bound": func(c echo.Context) error {
			var v map[string]any
			return c.Bind(&v)
		},
		"wrapped in a 500 problem": func(c echo.Context) error {
			if _, err := io.ReadAll(c.Request().Body); err != nil {
				return &problem.Error{Details: problem.New(http.StatusInternalServerError, "upload failed"), Err: err}
			}
			return nil
		},
		"wrapped with %w": func(c echo.Context) error {
			_, err := io.ReadAll(c.Request().Body)
			return fmt.Errorf("reading the upload: %w", err)
		},
	}
	tests := []struct {
		name       string
		err        error
		wantStatus int // 0: nothing sent
		wantDetail string
		wantLevel  string
	}{
		{name: "malformed chunked encoding", err: errors.New("invalid byte in chunk length"), wantStatus: 400, wantDetail: "The request body could not be read: it was malformed or cut short.", wantLevel: "INFO"},
		{name: "body shorter than its Content-Length", err: io.ErrUnexpectedEOF, wantStatus: 400, wantDetail: "The request body could not be read: it was malformed or cut short.", wantLevel: "INFO"},
		{name: "read deadline", err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, wantStatus: 408, wantDetail: "The request body was not received before the server's read timeout.", wantLevel: "INFO"},
		{name: "connection reset", err: reset, wantLevel: "DEBUG"},
		{name: "connection closed", err: closed, wantLevel: "DEBUG"},
	}
	for _, tt := range tests {
		for hname, h := range handlers {
			t.Run(tt.name+"/"+hname, func(t *testing.T) {
				logs, logger := newCoreLog()
				var fault bool
				e := coreEcho(logger, middleware.RequestID(), observeFault(&fault), middleware.BodyLimit(1<<20))
				e.POST("/", h)
				r := httptest.NewRequest(http.MethodPost, "/", &failingBody{data: `{"a":`, err: tt.err})
				r.Header.Set("Content-Type", "application/json")
				w := serve(e, r)

				if !fault {
					t.Error("the request was not marked as the client's fault")
				}
				recs := logs.records(t)
				if len(recs) != 1 || recs[0]["level"] != tt.wantLevel || !strings.Contains(fmt.Sprint(recs[0]["error"]), "request body could not be read: "+tt.err.Error()) {
					t.Errorf("log = %v, want one %s record with the cause", recs, tt.wantLevel)
				}
				if tt.wantStatus == 0 {
					if w.Body.Len() != 0 {
						t.Errorf("sent %d %s to a client that has gone", w.Code, w.Body)
					}
					return
				}
				if w.Code != tt.wantStatus {
					t.Fatalf("status %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
				}
				if p := readProblem(t, w); p.Detail != tt.wantDetail || p.RequestID == "" {
					t.Errorf("problem = %+v", p)
				}
			})
		}
	}
}

// TestBodyReadAfterCloseIsTheServers: a handler that reads the body after
// closing it has a bug of its own; that is a 500 and not the client's fault.
func TestBodyReadAfterCloseIsTheServers(t *testing.T) {
	var fault bool
	e := coreEcho(nil, middleware.RequestID(), observeFault(&fault), middleware.BodyLimit(0))
	e.POST("/", func(c echo.Context) error {
		body := c.Request().Body
		_ = body.Close()
		_, err := io.ReadAll(body)
		return err
	})
	r := httptest.NewRequest(http.MethodPost, "/", &failingBody{err: http.ErrBodyReadAfterClose})
	if w := serve(e, r); w.Code != http.StatusInternalServerError || fault {
		t.Errorf("read after close = %d, client's fault %v; want 500, false", w.Code, fault)
	}
	r = httptest.NewRequest(http.MethodPost, "/", &failingBody{err: errors.New("stream closed by handler")})
	if w := serve(e, r); w.Code != http.StatusInternalServerError || fault {
		t.Errorf("error after close = %d, client's fault %v; want 500, false", w.Code, fault)
	}
}

// TestBodyOverTheLimitIsMarked: a chunked body past the limit is the
// client's fault too, whatever status the handler chose.
func TestBodyOverTheLimitIsMarked(t *testing.T) {
	var fault bool
	e := coreEcho(nil, middleware.RequestID(), observeFault(&fault), middleware.BodyLimit(4))
	e.POST("/", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return fmt.Errorf("reading the upload: %v", err) // the cause is lost: 500
		}
		return nil
	})
	r := httptest.NewRequest(http.MethodPost, "/", onlyReader{strings.NewReader("longer than four")})
	if w := serve(e, r); w.Code != http.StatusInternalServerError || !fault {
		t.Errorf("over the limit = %d, client's fault %v; want the handler's 500, true", w.Code, fault)
	}
}

// observeFault records, after the inner chain has run, whether the request
// was marked as the client's fault.
func observeFault(fault *bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			*fault = false
			err := next(c)
			*fault = reqinfo.FromContext(c.Request().Context()).ClientFault()
			return err
		}
	}
}
