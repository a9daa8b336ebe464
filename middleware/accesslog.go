package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// statusClientClosedRequest is logged, never sent, when the client went away
// before a response was written (the nginx convention).
const statusClientClosedRequest = 499

// redacted replaces the value of a sensitive header in the access log.
const redacted = "[redacted]"

// alwaysRedacted are the credential-bearing request headers that never appear
// in a log, whatever the configuration says.
var alwaysRedacted = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"}

// AccessLogConfig configures AccessLog.
type AccessLogConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// Logger receives one record per request. Default: slog.Default().
	Logger *slog.Logger
	// LogHeaders adds the request header fields as a "headers" group. Off by
	// default: headers are large and often personal.
	LogHeaders bool
	// RedactHeaders names further header fields (case-insensitive) whose
	// values are logged as "[redacted]", on top of Authorization,
	// Proxy-Authorization, Cookie, Set-Cookie and X-Api-Key.
	RedactHeaders []string
}

// DefaultAccessLogConfig is the configuration AccessLog starts from.
var DefaultAccessLogConfig = AccessLogConfig{
	Skipper: middleware.DefaultSkipper,
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
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultAccessLogConfig.Skipper
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &accessLogger{handler: cfg.Logger.Handler()}
	l.fast, _ = l.handler.(*logjson.Handler)
	if cfg.LogHeaders {
		l.redact = make(map[string]bool, len(alwaysRedacted)+len(cfg.RedactHeaders))
		for _, h := range slices.Concat(alwaysRedacted, cfg.RedactHeaders) {
			l.redact[http.CanonicalHeaderKey(h)] = true
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			start := time.Now()
			in := countBody(c.Request())
			completed := false
			defer func() { l.log(c, start, in, completed) }()
			if err := next(c); err != nil {
				c.Error(err)
			}
			completed = true
			return nil
		}
	}
}

type accessLogger struct {
	handler slog.Handler
	fast    *logjson.Handler // handler, when it can take attrs without a slog.Record
	redact  map[string]bool  // canonical keys; nil when headers are not logged
}

// log writes the record. completed is false while a panic unwinds.
func (l *accessLogger) log(c echo.Context, start time.Time, in *countingBody, completed bool) {
	r := c.Request()
	res := c.Response()
	ctx := r.Context()
	status := res.Status
	switch {
	case !completed:
		status = http.StatusInternalServerError
	case !res.Committed && errors.Is(ctx.Err(), context.Canceled):
		status = statusClientClosedRequest
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !l.handler.Enabled(ctx, level) {
		return
	}
	now := time.Now()
	bytesIn := r.ContentLength
	if in != nil {
		bytesIn = in.n
	}
	var requestID, apiVersion string
	if info := reqinfo.FromContext(ctx); info != nil {
		requestID, apiVersion = info.ID, info.APIVersion
	}
	attrs := [...]slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", c.Path()),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes_in", bytesIn),
		slog.Int64("bytes_out", res.Size),
		slog.Duration("duration", now.Sub(start)),
		slog.String("request_id", requestID),
		slog.String("remote_ip", c.RealIP()),
		slog.String("user_agent", r.UserAgent()),
		{},
		{},
	}
	n := len(attrs) - 2
	if apiVersion != "" {
		attrs[n] = slog.String("api_version", apiVersion)
		n++
	}
	if l.redact != nil {
		attrs[n] = l.headers(r.Header)
		n++
	}
	// A log write error has nowhere to go; Logger drops it too.
	if l.fast != nil {
		_ = l.fast.LogAttrs(now, level, "request", attrs[:n]...)
		return
	}
	// What Logger.LogAttrs does, less runtime.Callers for the unused PC.
	rec := slog.NewRecord(now, level, "request", 0)
	rec.AddAttrs(attrs[:n]...)
	_ = l.handler.Handle(ctx, rec)
}

// headers renders h as a group, sorted so records diff cleanly, with
// sensitive values masked.
func (l *accessLogger) headers(h http.Header) slog.Attr {
	keys := slices.Sorted(maps.Keys(h))
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		v := redacted
		if !l.redact[http.CanonicalHeaderKey(k)] {
			v = strings.Join(h[k], ", ")
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.Attr{Key: "headers", Value: slog.GroupValue(attrs...)}
}

// countingBody counts the bytes of a request body whose length was not
// declared up front (chunked), so bytes_in is true for those too.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// countBody wraps r.Body in a countingBody when its length is unknown and
// returns it; otherwise it returns nil and Content-Length is the count.
func countBody(r *http.Request) *countingBody {
	if r.ContentLength >= 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &countingBody{ReadCloser: r.Body}
	r.Body = b
	return b
}
