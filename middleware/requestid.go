package middleware

import (
	"context"
	"crypto/rand"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// HeaderRequestID is the header field that carries the request ID in both
// directions.
const HeaderRequestID = "X-Request-ID"

// maxRequestIDLen bounds an accepted incoming ID, so a client cannot make every
// log line and response it touches arbitrarily large.
const maxRequestIDLen = 128

// RequestIDConfig configures RequestID.
type RequestIDConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// Header is the request and response header field. Default: HeaderRequestID.
	Header string
	// Generator makes a new ID when the request brings none, or an invalid
	// one. Default: crypto/rand.Text (26 base32 characters).
	Generator func() string
	// Valid decides whether an incoming ID is accepted. Default: ValidRequestID.
	Valid func(string) bool
}

// DefaultRequestIDConfig is the configuration RequestID uses.
var DefaultRequestIDConfig = RequestIDConfig{
	Skipper:   middleware.DefaultSkipper,
	Header:    HeaderRequestID,
	Generator: rand.Text,
	Valid:     ValidRequestID,
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
// as a *reqinfo.Info (read it with RequestIDFrom). An incoming ID that Valid
// rejects is replaced, never echoed: it would otherwise carry attacker-chosen
// bytes into logs and responses.
func RequestIDWithConfig(cfg RequestIDConfig) echo.MiddlewareFunc {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultRequestIDConfig.Skipper
	}
	if cfg.Header == "" {
		cfg.Header = DefaultRequestIDConfig.Header
	}
	if cfg.Generator == nil {
		cfg.Generator = DefaultRequestIDConfig.Generator
	}
	if cfg.Valid == nil {
		cfg.Valid = DefaultRequestIDConfig.Valid
	}
	header := http.CanonicalHeaderKey(cfg.Header)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			id := r.Header.Get(header)
			if !cfg.Valid(id) {
				id = cfg.Generator()
			}
			rec := &requestIDRecord{header: [1]string{id}}
			rec.ctx.Context = r.Context()
			rec.ctx.Info.ID = id
			c.Response().Header()[header] = rec.header[:]
			c.SetRequest(r.WithContext(&rec.ctx))
			return next(c)
		}
	}
}

// requestIDRecord puts a request's context, its Info within, and the backing
// array of its response header value in one allocation; the chain runs per
// request, so it counts.
type requestIDRecord struct {
	ctx    reqinfo.Context
	header [1]string
}

// RequestIDFrom returns the request ID RequestID stored in ctx, or "" when the
// request did not pass through it.
func RequestIDFrom(ctx context.Context) string {
	return reqinfo.RequestID(ctx)
}

// ValidRequestID reports whether id is acceptable from a client: 1 to 128
// characters from [A-Za-z0-9._:-]. That admits UUIDs, ULIDs, W3C trace IDs and
// most vendors' formats while keeping out spaces, CR/LF, quotes and non-ASCII,
// which could forge log lines or break header and JSON encoding downstream.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !requestIDChar(id[i]) {
			return false
		}
	}
	return true
}

func requestIDChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	case b == '.', b == '_', b == ':', b == '-':
		return true
	}
	return false
}
