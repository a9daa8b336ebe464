package middleware

import (
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/internal/reqinfo"
	troupetel "github.com/troupehq/troupe/internal/telemetry"
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
	// Default: DefaultSkipper.
	Skipper Skipper
	// Logger receives one record per request. Default: slog.Default().
	Logger *slog.Logger
	// LogHeaders adds the request header fields as a "headers" group. Off by
	// default: headers are large and often personal.
	LogHeaders bool
	// RedactHeaders names further header fields (case-insensitive) whose
	// values are logged as "[redacted]", on top of Authorization,
	// Proxy-Authorization, Cookie, Set-Cookie and X-Api-Key. Each must be a
	// header field name (see Validate).
	RedactHeaders []string
}

// DefaultAccessLogConfig is the configuration AccessLog starts from.
var DefaultAccessLogConfig = AccessLogConfig{
	Skipper: DefaultSkipper,
}

// Validate reports every problem in c, each a *fielderr.Error naming the
// field: a RedactHeaders entry that is not a header field name would never
// match, so the value it was meant to hide would be logged.
func (c AccessLogConfig) Validate() error {
	var errs []error
	for _, h := range c.RedactHeaders {
		if !isToken(h) {
			errs = append(errs, fielderr.New("RedactHeaders", "%q is not a valid HTTP header name", h))
		}
	}
	return errors.Join(errs...)
}

// accessLogger is the core of AccessLog.
type accessLogger struct {
	skip    Skipper
	handler slog.Handler
	fast    *logjson.Handler      // handler, when it can take attrs without a slog.Record
	attrs   *troupetel.LogHandler // handler, when it is the service's, which takes attrs in place
	redact  map[string]bool       // canonical keys; nil when headers are not logged
}

// newAccessLogger fills cfg's zero fields.
func newAccessLogger(cfg AccessLogConfig) *accessLogger {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultAccessLogConfig.Skipper
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &accessLogger{skip: cfg.Skipper, handler: cfg.Logger.Handler()}
	l.fast, _ = l.handler.(*logjson.Handler)
	l.attrs, _ = l.handler.(*troupetel.LogHandler)
	if cfg.LogHeaders {
		l.redact = make(map[string]bool, len(alwaysRedacted)+len(cfg.RedactHeaders))
		for _, h := range slices.Concat(alwaysRedacted, cfg.RedactHeaders) {
			l.redact[http.CanonicalHeaderKey(h)] = true
		}
	}
	return l
}

// log writes the record of r, which began at start, whose body in counted
// (nil when Content-Length did), and whose response is res. completed is
// false while a panic unwinds.
func (l *accessLogger) log(r *http.Request, f requestFacts, res responseState, start time.Time, in *countingBody, completed bool) {
	ctx := r.Context()
	status := statusOf(r, res, completed)
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
		slog.String("route", f.route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes_in", bytesIn),
		slog.Int64("bytes_out", res.size),
		slog.Duration("duration", now.Sub(start)),
		slog.String("request_id", requestID),
		slog.String("remote_ip", f.clientIP),
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
	if l.attrs != nil {
		_ = l.attrs.LogAttrs(ctx, now, level, "request", attrs[:n]...)
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
