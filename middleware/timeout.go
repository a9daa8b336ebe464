package middleware

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/problem"
)

// TimeoutConfig configures Timeout.
type TimeoutConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// Timeout bounds the inner chain. Zero or less disables the middleware.
	Timeout time.Duration
	// ErrorDetail is the detail of the 503 problem sent at the deadline.
	// Default: "The request did not complete within its time limit."
	ErrorDetail string
}

// DefaultTimeoutConfig is the configuration Timeout starts from.
var DefaultTimeoutConfig = TimeoutConfig{
	Skipper:     middleware.DefaultSkipper,
	ErrorDetail: deadlineDetail,
}

// Timeout returns middleware that gives the inner chain d to respond before
// the client gets a 503; d zero or less disables it.
func Timeout(d time.Duration) echo.MiddlewareFunc {
	cfg := DefaultTimeoutConfig
	cfg.Timeout = d
	return TimeoutWithConfig(cfg)
}

// TimeoutWithConfig returns Timeout with cfg; zero fields take their defaults.
//
// Unlike Echo's Timeout, the handler runs on the request's own goroutine; the
// deadline is its context's. When the deadline passes before the handler has
// written anything, a 503 problem is written and flushed at once from a
// context.AfterFunc, and every later write by the handler fails with
// http.ErrHandlerTimeout and is discarded. The handler works on its own copy
// of the header map, so the two never race. A handler that has already begun
// streaming is not interrupted mid-response: it only sees its context
// cancelled. When the handler returns after a timeout its error is dropped and
// the response is recorded as a committed 503, which the access log reports.
func TimeoutWithConfig(cfg TimeoutConfig) echo.MiddlewareFunc {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultTimeoutConfig.Skipper
	}
	if cfg.ErrorDetail == "" {
		cfg.ErrorDetail = DefaultTimeoutConfig.ErrorDetail
	}
	if cfg.Timeout <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	unavailable := problem.New(http.StatusServiceUnavailable, cfg.ErrorDetail)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			if cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			res := c.Response()
			ctx, cancel := context.WithTimeout(r.Context(), cfg.Timeout)
			defer cancel()
			tw := &timeoutWriter{w: res.Writer, h: res.Writer.Header().Clone(), ctx: ctx, r: r, p: unavailable}
			tw.p.Instance = r.URL.Path
			// A plain timer rather than context.AfterFunc: registering a
			// callback on ctx costs three allocations per request more.
			timer := time.AfterFunc(cfg.Timeout, tw.expire)
			res.Writer = tw
			c.SetRequest(r.WithContext(ctx))
			defer func() {
				timer.Stop()
				timedOut := tw.finish()
				res.Writer = tw.w
				c.SetRequest(r)
				if timedOut {
					res.Status = http.StatusServiceUnavailable
					res.Committed = true
					err = nil
				}
			}()
			err = next(c)
			if err != nil && !res.Committed && errors.Is(err, context.DeadlineExceeded) {
				return &problem.Error{Details: unavailable, Err: err}
			}
			return err
		}
	}
}

// timeoutWriter stands between the handler and the real writer for one
// request. The handler and the deadline callback run on different goroutines;
// mu orders their access to the real writer, and the handler's separate header
// map keeps its header edits away from the callback's.
type timeoutWriter struct {
	w   http.ResponseWriter // the real writer
	h   http.Header         // the handler's header map
	ctx context.Context     // the handler's context, whose deadline is the limit
	r   *http.Request       // the request as it arrived: request ID and method for the 503
	p   problem.Details     // the 503, prepared before the handler can touch r.URL

	mu          sync.Mutex
	wroteHeader bool // the handler has started the response
	expired     bool // the timeout timer has fired
	timedOut    bool // the 503 was sent; the handler's output is discarded
	done        bool // the handler has returned; the callback must not write
}

// Header returns the handler's own header map.
func (tw *timeoutWriter) Header() http.Header { return tw.h }

// WriteHeader sends the handler's header fields and status, unless the 503
// went first.
func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.wroteHeader || tw.timeOut() {
		return
	}
	tw.startResponse()
	tw.w.WriteHeader(code)
}

// Write writes b to the client, or fails with http.ErrHandlerTimeout once the
// deadline has passed without a response begun.
func (tw *timeoutWriter) Write(b []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timeOut() {
		return 0, http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		tw.startResponse()
	}
	return tw.w.Write(b)
}

// Flush implements http.Flusher; see FlushError.
func (tw *timeoutWriter) Flush() { _ = tw.FlushError() }

// FlushError sends buffered output to the client, which commits the header
// like a write does. After a timeout it fails with http.ErrHandlerTimeout.
func (tw *timeoutWriter) FlushError() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timeOut() {
		return http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		tw.startResponse()
	}
	return http.NewResponseController(tw.w).Flush()
}

// Unwrap returns the real writer, for http.ResponseController.
func (tw *timeoutWriter) Unwrap() http.ResponseWriter { return tw.w }

// startResponse commits the handler's header map; the caller holds mu.
func (tw *timeoutWriter) startResponse() {
	tw.wroteHeader = true
	tw.syncHeader()
}

// syncHeader makes the real header map equal to the handler's; the caller
// holds mu. Deletions count too: the handler's map started as a copy.
func (tw *timeoutWriter) syncHeader() {
	dst := tw.w.Header()
	clear(dst)
	maps.Copy(dst, tw.h)
}

// expire runs when the timeout elapses. It may run a moment before ctx's
// own timer has marked the context expired, so it records the expiry itself.
func (tw *timeoutWriter) expire() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.expired = true
	tw.timeOut()
}

// timeOut sends the 503 if the deadline has passed while the handler has
// neither begun a response nor returned, and reports whether the 503 has been
// sent; the caller holds mu. The handler's own writes call it too: a handler
// woken by its context can get to mu before the callback does, and the
// outcome must not depend on that race. A departed client (a cancelled, not
// expired, context) is sent nothing.
func (tw *timeoutWriter) timeOut() bool {
	if tw.timedOut {
		return true
	}
	if tw.done || tw.wroteHeader || !(tw.expired || errors.Is(tw.ctx.Err(), context.DeadlineExceeded)) {
		return false
	}
	tw.timedOut = true
	problem.Write(tw.w, tw.r, tw.p)
	_ = http.NewResponseController(tw.w).Flush()
	return true
}

// finish ends the handler's use of tw and reports whether the 503 was sent.
// Unless it was, the handler's header map is synced once more: it carries
// fields set by a handler that returned an error without writing (405's
// Allow), and trailers set after the body.
func (tw *timeoutWriter) finish() (timedOut bool) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	timedOut = tw.timeOut()
	tw.done = true
	if !timedOut {
		tw.syncHeader()
	}
	return timedOut
}
