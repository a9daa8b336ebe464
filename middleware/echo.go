package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/chain"
	"github.com/troupehq/troupe/problem"
)

// This file is the package's Echo adapter: every constructor in Echo's
// dialect and the error handler. Each hands the request to its stage's core
// (see core.go) in net/http terms and does the Echo plumbing around it:
// swapping the request and the response writer, reading what Echo's
// response has recorded, rendering an error early through c.Error.

// stateOf returns what Echo's response has recorded.
func stateOf(c echo.Context) responseState {
	res := c.Response()
	return responseState{status: res.Status, size: res.Size, committed: res.Committed}
}

// passThrough is the middleware of a stage its configuration disables.
func passThrough(next echo.HandlerFunc) echo.HandlerFunc { return next }

// Recover returns the outermost middleware of the chain: it turns a panic
// anywhere inside it into a 500 problem response and an ERROR log record, so a
// bug in one handler fails one request instead of the process.
func Recover() echo.MiddlewareFunc {
	return RecoverWithConfig(DefaultRecoverConfig)
}

// RecoverWithConfig returns Recover with cfg; zero fields take their defaults.
//
// The client sees only a generic 500 — never the panic value or the stack,
// which may hold secrets — while the log gets both, with the method, path and
// request ID. If the response was already committed the log record is all that
// can be done. A panic with http.ErrAbortHandler is re-raised: it is
// net/http's deliberate way to abort a response, not a bug.
func RecoverWithConfig(cfg RecoverConfig) echo.MiddlewareFunc {
	rc := newRecoverer(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			if rc.skip(c.Request()) {
				return next(c)
			}
			defer func() {
				if v := recover(); v != nil {
					res := c.Response()
					rc.recovered(res, c.Request(), res.Committed, v)
					err = nil
				}
			}()
			return next(c)
		}
	}
}

// RequestID returns middleware that gives every request an ID: the caller's
// X-Request-ID when it is well-formed, so one ID follows a call across
// services, or a fresh random one.
func RequestID() echo.MiddlewareFunc {
	return RequestIDWithConfig(DefaultRequestIDConfig)
}

// RequestIDWithConfig returns RequestID with cfg; zero fields take their
// defaults.
//
// The ID is echoed in the response header and stored in the request context
// as a *reqinfo.Info (read it with RequestIDFrom), together with the matched
// route template and the client IP (by Echo's IPExtractor, which the service
// sets to NewClientIP's rule), so the stages further in read them there. An
// incoming ID that Valid rejects is replaced, never echoed: it would
// otherwise carry attacker-chosen bytes into logs and responses.
func RequestIDWithConfig(cfg RequestIDConfig) echo.MiddlewareFunc {
	s := newRequestIDs(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if s.skip(r) {
				return next(c)
			}
			f := requestFacts{route: chain.MatchedRoute(c), clientIP: c.RealIP()}
			c.SetRequest(s.assign(r, c.Response().Header(), f))
			return next(c)
		}
	}
}

// AccessLog returns middleware that writes one record per request to logger:
// INFO below 500, ERROR from 500 up.
func AccessLog(logger *slog.Logger) echo.MiddlewareFunc {
	cfg := DefaultAccessLogConfig
	cfg.Logger = logger
	return AccessLogWithConfig(cfg)
}

// AccessLogWithConfig returns AccessLog with cfg; zero fields take their
// defaults.
//
// The record has method, route (the matched template), path, status,
// bytes_in, bytes_out, duration, request_id, remote_ip, user_agent and, on
// versioned routes, api_version. An error from the inner chain is rendered
// here through c.Error so the status logged is the status sent; the error is
// then consumed. A panic passing through is still logged, as a 500, without
// recovering it, so Recover further out reports the original stack.
//
// The record carries no source location (its PC is zero): the caller would
// always be this middleware, and capturing it costs more than the rest of
// the record. With the service's JSON handler (internal/logjson) the record
// is written without building a slog.Record at all.
func AccessLogWithConfig(cfg AccessLogConfig) echo.MiddlewareFunc {
	l := newAccessLogger(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if l.skip(c.Request()) {
				return next(c)
			}
			start := time.Now()
			in := countBody(c.Request())
			completed := false
			defer func() {
				l.log(c.Request(), requestFacts{route: chain.Route(c), clientIP: chain.ClientIP(c)}, stateOf(c), start, in, completed)
			}()
			if err := next(c); err != nil {
				c.Error(err)
			}
			completed = true
			return nil
		}
	}
}

// SecurityHeaders returns middleware that sets the response header fields of
// DefaultSecurityHeadersConfig.
func SecurityHeaders() echo.MiddlewareFunc {
	return SecurityHeadersWithConfig(DefaultSecurityHeadersConfig)
}

// SecurityHeadersWithConfig returns SecurityHeaders with cfg. Only Skipper
// takes a default; every other field is used as given (check a
// configuration from users with its Validate method first).
//
// The fields are set before the inner chain runs, so error responses carry
// them too. Their values are computed once, here, not per request.
func SecurityHeadersWithConfig(cfg SecurityHeadersConfig) echo.MiddlewareFunc {
	s := newSecurityHeaders(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if r := c.Request(); !s.skip(r) {
				s.apply(r, c.Response().Header())
			}
			return next(c)
		}
	}
}

// CORSWithConfig returns middleware that answers cross-origin requests from
// an explicit allow-list, or the error of cfg.Validate naming every problem.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered here with 204 and never reaches the inner chain, so it needs no
// credentials and costs no rate-limit token; a disallowed origin gets the 204
// without any Access-Control-* field, which makes the browser refuse. Other
// requests from an allowed origin get their CORS fields before the inner chain
// runs, so error responses carry them; requests from other origins pass
// through untouched. Vary: Origin is always set (except for "*") because the
// response depends on it.
func CORSWithConfig(cfg CORSConfig) (echo.MiddlewareFunc, error) {
	p, err := newCORSPolicy(cfg)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return passThrough, nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !p.skip(r) && p.answer(c.Response(), r) {
				return nil
			}
			return next(c)
		}
	}, nil
}

// BodyLimit returns middleware that rejects request bodies larger than limit
// bytes with 413; limit zero accepts any size.
func BodyLimit(limit int64) echo.MiddlewareFunc {
	cfg := DefaultBodyLimitConfig
	cfg.Limit = limit
	return BodyLimitWithConfig(cfg)
}

// BodyLimitWithConfig returns BodyLimit with cfg; a nil Skipper takes its
// default, and Limit is used as given.
//
// A declared Content-Length over the limit is refused before a byte is read.
// Any other body is wrapped in http.MaxBytesReader, so a chunked body that
// grows past the limit fails the handler's read with *http.MaxBytesError,
// which ErrorHandler renders as 413, and net/http closes the connection rather
// than drain the rest.
//
// Whatever the limit, a read of the body that fails through the client's
// fault fails with an error the ErrorHandler renders as the client's: 408
// when the client was slower than the server's read timeout
// (http.read_timeout), 400 when the body was malformed or cut short, and
// nothing at all when the connection is gone. The request is marked as the
// client's fault (reqinfo), so the circuit breaker leaves it out whatever
// the handler made of the error. Only reads of the request body are
// classified so; a handler's own dependency failing is still a server
// error. See requestBody.
func BodyLimitWithConfig(cfg BodyLimitConfig) echo.MiddlewareFunc {
	b := newBodyLimiter(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if b.skip(r) {
				return next(c)
			}
			// The net/http writer, not Echo's wrapper: only it can mark the
			// connection to close after the 413.
			if err := b.guard(c.Response().Writer, r); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// Timeout returns middleware that gives the inner chain d to respond before
// the client gets a 503; d zero disables it.
func Timeout(d time.Duration) echo.MiddlewareFunc {
	cfg := DefaultTimeoutConfig
	cfg.Timeout = d
	return TimeoutWithConfig(cfg)
}

// TimeoutWithConfig returns Timeout with cfg; a nil Skipper and an empty
// ErrorDetail take their defaults, and Timeout is used as given.
//
// Unlike Echo's Timeout, the handler runs on the request's own goroutine; the
// deadline is its context's. When the deadline passes before the handler has
// written anything, a 503 problem is written and flushed at once from a timer
// callback, and every later write by the handler fails with
// http.ErrHandlerTimeout and is discarded. The handler works on its own copy
// of the header map, so the two never race. A handler that has already begun
// streaming is not interrupted mid-response: it only sees its context
// cancelled. When the handler returns after a timeout its error is dropped and
// the response is recorded as committed with the status sent, which the
// access log reports.
//
// A deadline that passes while the handler is waiting for the request body
// (a read is under way, see reqinfo.Info.ReadingBody) is the client's
// fault, not the server's: the client gets a 408 instead of the 503, and the
// request is marked so that the circuit breaker leaves it out. A timeout
// response to a request with a body closes the connection: net/http would
// otherwise read what is left of the body before sending it, waiting on the
// very client that is too slow.
func TimeoutWithConfig(cfg TimeoutConfig) echo.MiddlewareFunc {
	t := newTimeout(cfg)
	if t == nil {
		return passThrough
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			r := c.Request()
			if t.skip(r) {
				return next(c)
			}
			res := c.Response()
			tw, inner := t.begin(res.Writer, r)
			res.Writer = tw
			c.SetRequest(inner)
			defer func() {
				sent := tw.finish()
				res.Writer = tw.Unwrap()
				c.SetRequest(r)
				if sent != 0 {
					res.Status = sent
					res.Committed = true
					err = nil
				}
			}()
			err = next(c)
			return t.result(err, res.Committed)
		}
	}
}

// Compress returns a middleware that compresses responses with
// DefaultCompressConfig. It panics if DefaultCompressConfig has been changed
// into an invalid configuration; use CompressWithConfig to handle that error.
func Compress() echo.MiddlewareFunc {
	m, err := CompressWithConfig(DefaultCompressConfig)
	if err != nil {
		panic(fmt.Sprintf("middleware: DefaultCompressConfig is invalid: %v", err))
	}
	return m
}

// CompressWithConfig returns a middleware that compresses response bodies
// with the coding the client's Accept-Encoding prefers (see
// NegotiateEncoding), streaming them through pooled encoders, or the error
// of cfg.Validate naming every problem.
//
// When no coding is acceptable — the client excluded identity too — the
// response is sent uncompressed rather than refused with 406: RFC 9110
// §12.1 lets a server disregard proactive negotiation, and an unreadable
// error helps such a client no more than an uncompressed body does.
func CompressWithConfig(cfg CompressConfig) (echo.MiddlewareFunc, error) {
	c, err := newCompressor(cfg)
	if err != nil {
		return nil, err
	}
	return c.middleware, nil
}

// middleware is the compressor's Echo adapter.
func (c *compressor) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		if c.bypass(ctx.Request()) {
			return next(ctx)
		}
		res := ctx.Response()
		w := c.begin(res.Writer, ctx.Request())
		res.Writer = w
		returned := false
		defer func() {
			res.Writer = w.Unwrap()
			if !returned && !w.sent() {
				// A panic is unwinding and nothing reached the client: drop
				// what was held back and let the recover stage render a 500
				// instead of an empty 200.
				res.Committed = false
			}
			w.release()
		}()
		err := next(ctx)
		returned = true
		return w.end(err)
	}
}

// Telemetry returns middleware that traces every request as an OpenTelemetry
// server span and records the HTTP server metrics of the semantic
// conventions. Either provider may be nil.
func Telemetry(tp trace.TracerProvider, mp metric.MeterProvider) echo.MiddlewareFunc {
	cfg := DefaultTelemetryConfig
	cfg.TracerProvider = tp
	cfg.MeterProvider = mp
	return TelemetryWithConfig(cfg)
}

// TelemetryWithConfig returns Telemetry with cfg; zero fields take their
// defaults. With neither provider it returns a pass-through, so a service
// with no exporter pays nothing per request.
//
// The span continues the caller's trace when the request carries a valid
// traceparent; a malformed one is ignored and a new trace starts. It is named
// after the route template ("GET /api/v2/notes/:id"), never the raw path,
// or just the method when no route matched (404, 405). Methods outside the
// standard set count as _OTHER. The span reaches the handler through the
// request context, except when it records nothing and continues no trace:
// then the request is left as it was, saving a copy per request. Without a
// TracerProvider the caller's trace context and baggage still reach the
// handler, so outbound calls continue the trace rather than break it.
//
// An error from the inner chain is rendered here through c.Error, as the
// access log does, so the status recorded is the status sent; a 5xx marks
// the span as an error, a 4xx does not (the client erred, not the server).
// A panic passing through ends the span as an error and counts as a 500
// without being recovered, so Recover further out still reports it. A
// request the client abandoned before any response counts as 499, as in the
// access log.
//
// Metrics are labelled by method, route template, status class and API
// version only, never by anything the client chose, and their label sets are
// built once per combination, so after warm-up recording allocates nothing.
func TelemetryWithConfig(cfg TelemetryConfig) echo.MiddlewareFunc {
	t := newTelemetry(cfg)
	if t == nil {
		return passThrough
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if t.skip(r) {
				return next(c)
			}
			o, inner := t.begin(r, chain.Route(c))
			if inner != r {
				c.SetRequest(inner)
			}
			var err error
			completed := false
			defer func() {
				var detail spanDetail
				if o.recording() {
					detail = spanDetail{scheme: c.Scheme(), clientIP: chain.ClientIP(c)}
				}
				t.end(&o, c.Request(), stateOf(c), detail, err, completed)
			}()
			if err = next(c); err != nil {
				c.Error(err)
			}
			completed = true
			return nil
		}
	}
}

// ErrorHandler returns the echo.HTTPErrorHandler Troupe installs as
// e.HTTPErrorHandler, so that every error — a route's, a middleware's or the
// router's own 404 and 405 — reaches the client as RFC 9457 problem+json
// carrying the request ID. Causes are logged, never sent:
//
//   - a read of the request body that failed through the client's fault
//     (see BodyLimitWithConfig), wherever it is in the chain, is 400, or 408
//     past the read timeout, logged at INFO; nothing is sent when the
//     connection is gone.
//   - *problem.Error renders itself (status, detail, extra header fields).
//   - *http.MaxBytesError anywhere in the chain is 413, even when a binder
//     wrapped it in an *echo.HTTPError.
//   - *echo.HTTPError, which a user's handler may still return, keeps its
//     status; a string message becomes the detail for 4xx, 5xx get a
//     generic detail. Headers set before it was returned (405's Allow) are
//     kept. Troupe itself never creates one.
//   - context.DeadlineExceeded is 503.
//   - context.Canceled is 503, or nothing at all when the client has gone.
//   - anything else is 500 with a generic detail, logged at ERROR.
//
// When the response is already committed nothing is written; the error is
// only logged. A nil logger means slog.Default().
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	h := newErrorRenderer(logger)
	return func(err error, c echo.Context) {
		h.render(c.Response(), c.Request(), stateOf(c), err, func(err error) (*problem.Error, slog.Level) {
			return echoHTTPError(err, c)
		})
	}
}

// echoHTTPError maps an *echo.HTTPError in err (the innermost of two nested
// ones, as Echo's binder makes) to its problem; nil when err holds none.
func echoHTTPError(err error, c echo.Context) (*problem.Error, slog.Level) {
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return nil, 0
	}
	if inner, ok := he.Internal.(*echo.HTTPError); ok {
		he = inner
	}
	var allow string
	if c.Response().Header().Get(echo.HeaderAllow) == "" {
		allow, _ = c.Get(echo.ContextKeyHeaderAllow).(string)
	}
	return statusProblem(he.Code, he.Message, allow)
}
