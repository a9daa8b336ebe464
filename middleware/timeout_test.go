package middleware_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/goleak"

	"github.com/troupehq/troupe/middleware"
)

// coreTestTimeout is short so tests are quick; no test asserts on durations.
const coreTestTimeout = 50 * time.Millisecond

func TestTimeoutFastHandler(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := coreEcho(nil, middleware.Timeout(time.Minute))
	e.GET("/", func(c echo.Context) error {
		if _, ok := c.Request().Context().Deadline(); !ok {
			t.Error("handler context has no deadline")
		}
		c.Response().Header().Set("X-Handler", "yes")
		return c.String(http.StatusOK, "fast")
	})
	w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK || w.Body.String() != "fast" || w.Header().Get("X-Handler") != "yes" {
		t.Errorf("response = %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestTimeoutZeroIsPassThrough(t *testing.T) {
	e := coreEcho(nil, middleware.Timeout(0))
	e.GET("/", func(c echo.Context) error {
		if _, ok := c.Request().Context().Deadline(); ok {
			t.Error("handler context has a deadline")
		}
		return c.NoContent(http.StatusNoContent)
	})
	if w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil)); w.Code != http.StatusNoContent {
		t.Errorf("status = %d", w.Code)
	}
}

// TestTimeoutHandlerIgnoringItsContext is the case Echo's own Timeout races
// on: the client must get the 503 while the handler is still running, and the
// handler's late writes must fail and go nowhere.
func TestTimeoutHandlerIgnoringItsContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	logs, logger := newCoreLog()
	release := make(chan struct{})
	lateWrite := make(chan error, 1)
	e := coreEcho(logger, coreChain(t, logger)...)
	e.GET("/slow", func(c echo.Context) error {
		<-c.Request().Context().Done()
		<-release // keeps working past the deadline
		c.Response().Header().Set("X-Late", "1")
		_, err := c.Response().Write([]byte("late body"))
		lateWrite <- err
		return c.JSON(http.StatusOK, map[string]string{"late": "yes"})
	})
	srv := httptest.NewServer(e)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/slow", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set(middleware.HeaderRequestID, "slow-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body) // the whole response arrives while the handler is blocked
	_ = resp.Body.Close()
	close(release)
	srv.Close() // waits for the handler to return

	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("response = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(string(body), `"request_id":"slow-1"`) || !strings.Contains(string(body), "within its time limit") {
		t.Errorf("body = %s", body)
	}
	for k, v := range map[string]string{
		middleware.HeaderRequestID:    "slow-1",
		"Access-Control-Allow-Origin": "https://app.example.com",
		"X-Frame-Options":             "DENY",
		"X-Late":                      "",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if err := <-lateWrite; !errors.Is(err, http.ErrHandlerTimeout) {
		t.Errorf("late write error = %v, want http.ErrHandlerTimeout", err)
	}
	if recs := logs.find(t, "request"); len(recs) != 1 || recs[0]["status"] != float64(503) {
		t.Errorf("access log = %v, want one record with status 503", recs)
	}
	if recs := logs.find(t, "request failed"); len(recs) != 0 {
		t.Errorf("handler error after the timeout was rendered: %v", recs)
	}
}

// TestTimeoutStreamingHandler checks that a response already under way is not
// cut off by a 503; the handler only sees its context end.
func TestTimeoutStreamingHandler(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctxErr := make(chan error, 1)
	e := coreEcho(nil, middleware.Timeout(coreTestTimeout))
	e.GET("/stream", func(c echo.Context) error {
		c.Response().Header().Set("Content-Type", "text/plain")
		c.Response().WriteHeader(http.StatusOK)
		_, _ = c.Response().Write([]byte("first\n"))
		if err := http.NewResponseController(c.Response()).Flush(); err != nil {
			return err
		}
		<-c.Request().Context().Done()
		ctxErr <- c.Request().Context().Err()
		_, err := c.Response().Write([]byte("last\n"))
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != http.StatusOK || first != "first\n" || err != nil {
		t.Fatalf("start of stream = %d %q %v", resp.StatusCode, first, err)
	}
	rest, _ := io.ReadAll(resp.Body)
	if !errors.Is(<-ctxErr, context.DeadlineExceeded) {
		t.Error("handler context did not end with the deadline")
	}
	if string(rest) != "last\n" {
		t.Errorf("rest of stream = %q, want the handler's last write", rest)
	}
}

func TestTimeoutErrorsAndHeaders(t *testing.T) {
	tests := []struct {
		name       string
		handler    echo.HandlerFunc
		wantStatus int
		wantDetail string
		wantHeader map[string]string
	}{
		{
			name:       "deadline error before the timer",
			handler:    func(echo.Context) error { return fmt.Errorf("query: %w", context.DeadlineExceeded) },
			wantStatus: http.StatusServiceUnavailable,
			wantDetail: "Orders are slow today.",
		},
		{
			name: "header set before returning an error is kept",
			handler: func(c echo.Context) error {
				c.Response().Header().Set("Retry-After", "3")
				return echo.NewHTTPError(http.StatusTooManyRequests, "wait")
			},
			wantStatus: http.StatusTooManyRequests,
			wantDetail: "wait",
			wantHeader: map[string]string{"Retry-After": "3", middleware.HeaderRequestID: "t-1"},
		},
		{
			name: "header deleted by the handler stays deleted",
			handler: func(c echo.Context) error {
				c.Response().Header().Del(middleware.HeaderRequestID)
				return c.NoContent(http.StatusNoContent)
			},
			wantStatus: http.StatusNoContent,
			wantHeader: map[string]string{middleware.HeaderRequestID: ""},
		},
		{
			name: "trailer set after the body",
			handler: func(c echo.Context) error {
				c.Response().Header().Set("Trailer", "X-Checksum")
				if err := c.String(http.StatusOK, "body"); err != nil {
					return err
				}
				c.Response().Header().Set("X-Checksum", "abc")
				return nil
			},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"X-Checksum": "abc"},
		},
		{
			name: "trailer named with the prefix after the body",
			handler: func(c echo.Context) error {
				if err := c.String(http.StatusOK, "body"); err != nil {
					return err
				}
				c.Response().Header().Set(http.TrailerPrefix+"X-Checksum", "def")
				return nil
			},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"X-Checksum": "def"},
		},
		{
			name: "header returned with an error that replaces an outer field",
			handler: func(c echo.Context) error {
				c.Response().Header().Set(middleware.HeaderRequestID, "replaced")
				c.Response().Header().Add("Allow", "GET")
				return echo.ErrMethodNotAllowed
			},
			wantStatus: http.StatusMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "GET", middleware.HeaderRequestID: "replaced"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			e := coreEcho(nil, middleware.RequestID(), middleware.TimeoutWithConfig(middleware.TimeoutConfig{
				Timeout:     time.Minute,
				ErrorDetail: "Orders are slow today.",
			}))
			e.GET("/", tt.handler)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set(middleware.HeaderRequestID, "t-1")
			w := serve(e, r)

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantDetail != "" {
				if p := readProblem(t, w); p.Detail != tt.wantDetail {
					t.Errorf("detail = %q, want %q", p.Detail, tt.wantDetail)
				}
			}
			for k, v := range tt.wantHeader {
				if got := w.Result().Header.Get(k); got != v && w.Result().Trailer.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestTimeoutWriteAfterDeadlineBeatsCallback pins the outcome when the
// handler, not the AfterFunc callback, is first to act after the deadline:
// the answer is still the 503.
func TestTimeoutWriteAfterDeadlineBeatsCallback(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var writeErr error
	e := coreEcho(nil, middleware.Timeout(time.Minute))
	e.GET("/", func(c echo.Context) error {
		_, writeErr = c.Response().Write([]byte("too late"))
		return nil
	})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))

	readProblem(t, w)
	if w.Code != http.StatusServiceUnavailable || !errors.Is(writeErr, http.ErrHandlerTimeout) {
		t.Errorf("status %d, write error %v; want 503 and http.ErrHandlerTimeout", w.Code, writeErr)
	}
}

func TestTimeoutClientGoneWritesNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := coreEcho(nil, middleware.Timeout(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	e.GET("/", func(c echo.Context) error {
		cancel() // the client hangs up
		<-c.Request().Context().Done()
		return c.Request().Context().Err()
	})
	w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if w.Body.Len() != 0 || w.Flushed {
		t.Errorf("wrote %d %q to a departed client", w.Code, w.Body)
	}
}

func TestTimeoutPanicRestoresTheWriter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	logs, logger := newCoreLog()
	var outer http.ResponseWriter
	e := coreEcho(logger,
		middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger}),
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				defer func() { outer = c.Response().Writer }()
				return next(c)
			}
		},
		middleware.Timeout(time.Minute),
	)
	e.GET("/", func(c echo.Context) error {
		c.Response().Header().Set("Content-Type", "text/csv")
		panic("in the handler")
	})
	w := serve(e, httptest.NewRequest(http.MethodGet, "/", nil))

	if _, ok := outer.(*httptest.ResponseRecorder); !ok {
		t.Errorf("writer after the panic is %T, want the recorder back", outer)
	}
	readProblem(t, w)
	if w.Code != http.StatusInternalServerError || len(logs.find(t, "panic recovered")) != 1 {
		t.Errorf("status = %d, records %v", w.Code, logs.records(t))
	}
}

func TestTimeoutConcurrentRequests(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := coreEcho(nil, middleware.RequestID(), middleware.Timeout(coreTestTimeout))
	e.GET("/:mode", func(c echo.Context) error {
		if c.Param("mode") == "slow" {
			<-c.Request().Context().Done()
			for range 10 { // keeps writing past the deadline
				c.Response().Header().Set("X-Progress", "more")
				_, _ = c.Response().Write([]byte("chunk"))
			}
			return nil
		}
		return c.String(http.StatusOK, "quick")
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	errs := make(chan error, 20)
	for i := range 20 {
		mode, want := "quick", http.StatusOK
		if i%2 == 0 {
			mode, want = "slow", http.StatusServiceUnavailable
		}
		go func() {
			resp, err := http.Get(srv.URL + "/" + mode)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != want {
				err = fmt.Errorf("%s: status %d, want %d", mode, resp.StatusCode, want)
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestTimeoutHandlerHeaderNotShared serves requests one after another, so
// the header maps the middleware reuses pass from one to the next: no field
// may leak across, and each handler starts from its own request's fields.
func TestTimeoutHandlerHeaderNotShared(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := coreEcho(nil, middleware.RequestID(), middleware.Timeout(time.Minute))
	var leaked []string
	e.GET("/:n", func(c echo.Context) error {
		h := c.Response().Header()
		for k := range h {
			if k != http.CanonicalHeaderKey(middleware.HeaderRequestID) {
				leaked = append(leaked, k)
			}
		}
		if got := h.Get(middleware.HeaderRequestID); got != "id-"+c.Param("n") {
			t.Errorf("handler %s sees request ID %q", c.Param("n"), got)
		}
		h.Set("X-Handler-"+c.Param("n"), "1")
		if c.Param("n") == "0" || c.Param("n") == "3" {
			return echo.ErrTeapot // the map is synced at return, not on a write
		}
		return c.NoContent(http.StatusNoContent)
	})
	for i := range 50 {
		n := strconv.Itoa(i % 5)
		r := httptest.NewRequest(http.MethodGet, "/"+n, nil)
		r.Header.Set(middleware.HeaderRequestID, "id-"+n)
		w := serve(e, r)
		if w.Header().Get("X-Handler-"+n) != "1" {
			t.Errorf("request %d: response lacks its handler's field: %v", i, w.Header())
		}
		for k := range w.Header() {
			if strings.HasPrefix(k, "X-Handler-") && k != "X-Handler-"+n {
				t.Errorf("request %d: response carries %s", i, k)
			}
		}
	}
	if len(leaked) > 0 {
		t.Errorf("handlers found fields of earlier requests: %v", leaked)
	}
}

// TestTimeoutDeadlineOfParentComesFirst checks that a sooner deadline
// already on the request is the one the handler sees and the one the 503
// is sent at; the handler here neither writes nor waits on its context, so
// only the timer can answer.
func TestTimeoutDeadlineOfParentComesFirst(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var parentDeadline, seen time.Time
	release := make(chan struct{})
	e := coreEcho(nil,
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				ctx, cancel := context.WithTimeout(c.Request().Context(), coreTestTimeout)
				defer cancel()
				parentDeadline, _ = ctx.Deadline()
				c.SetRequest(c.Request().WithContext(ctx))
				return next(c)
			}
		},
		middleware.Timeout(time.Hour),
	)
	e.GET("/", func(c echo.Context) error {
		seen, _ = c.Request().Context().Deadline()
		<-release
		return c.String(http.StatusOK, "late")
	})
	srv := httptest.NewServer(e)
	client := &http.Client{Timeout: 10 * time.Second} // turns a missing 503 into a failure, not a hang
	resp, err := client.Get(srv.URL)
	close(release)
	srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
	if !seen.Equal(parentDeadline) {
		t.Errorf("handler deadline %v, want the request's own %v", seen, parentDeadline)
	}
}

// TestTimeoutDerivedContexts checks what handlers that pass their context on
// rely on: a context derived from it ends with context.DeadlineExceeded at
// the deadline, and one still held when the handler returns ends then.
func TestTimeoutDerivedContexts(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	derivedErr := make(chan error, 1)
	afterReturn := make(chan error, 1)
	e := coreEcho(nil, middleware.Timeout(coreTestTimeout))
	e.GET("/slow", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Hour)
		defer cancel()
		<-ctx.Done() // a query running into the request's deadline
		derivedErr <- ctx.Err()
		return fmt.Errorf("query: %w", ctx.Err())
	})
	e.GET("/quick", func(c echo.Context) error {
		ctx := c.Request().Context()
		go func() { // outlives the handler
			<-ctx.Done()
			afterReturn <- ctx.Err()
		}()
		return c.NoContent(http.StatusNoContent)
	})

	w := serve(e, httptest.NewRequest(http.MethodGet, "/slow", nil))
	if err := <-derivedErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("derived context ended with %v, want context.DeadlineExceeded", err)
	}
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", w.Code)
	}

	if w := serve(e, httptest.NewRequest(http.MethodGet, "/quick", nil)); w.Code != http.StatusNoContent {
		t.Errorf("status = %d, want 204", w.Code)
	}
	if err := <-afterReturn; err != context.Canceled {
		t.Errorf("context after the handler returned ended with %v, want context.Canceled", err)
	}
}

func ExampleTimeout() {
	e := echo.New()
	e.HTTPErrorHandler = middleware.ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(middleware.Timeout(10 * time.Millisecond))
	e.GET("/report", func(c echo.Context) error {
		<-c.Request().Context().Done() // work that outlives the deadline
		return c.String(http.StatusOK, "never sent")
	})

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/report", nil))
	fmt.Println(w.Code, w.Body)
	// Output:
	// 503 {"type":"about:blank","title":"Service Unavailable","status":503,"detail":"The request did not complete within its time limit.","instance":"/report"}
}

// TestTimeoutWhileWaitingForTheBody sends part of a body and then nothing:
// at the deadline the handler is still waiting for the client. The client
// gets a 408 at once, not after the connection's read timeout, the
// connection is closed after it, and the request is marked as the client's
// fault for the breaker.
func TestTimeoutWhileWaitingForTheBody(t *testing.T) {
	logs, logger := newCoreLog()
	var fault bool
	done := make(chan struct{})
	e := coreEcho(logger, middleware.RequestID(), middleware.AccessLog(logger), observeFault(&fault),
		middleware.BodyLimit(1<<20), middleware.Timeout(coreTestTimeout))
	e.POST("/upload", func(c echo.Context) error {
		defer close(done)
		_, err := io.ReadAll(c.Request().Body)
		return err
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Far beyond the deadline, far below a hang: the server has no read
	// timeout, so only the timeout stage can answer.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the handler waited for the body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || !strings.Contains(string(body), "request's time limit") {
		t.Errorf("response = %d, close %v, %s; want a 408 problem and the connection closed", resp.StatusCode, resp.Close, body)
	}
	conn.Close() // the handler's read ends
	<-done
	srv.Close()
	if !fault {
		t.Error("the request was not marked as the client's fault")
	}
	if recs := logs.find(t, "request"); len(recs) != 1 || recs[0]["status"] != float64(408) || recs[0]["level"] != "INFO" {
		t.Errorf("access log = %v, want one INFO record with status 408", recs)
	}
}
