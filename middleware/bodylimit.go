package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// BodyLimitConfig configures BodyLimit.
type BodyLimitConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// Limit is the largest request body accepted, in bytes. Zero or less
	// means unlimited.
	Limit int64
}

// DefaultBodyLimitConfig is the configuration BodyLimit starts from.
var DefaultBodyLimitConfig = BodyLimitConfig{
	Skipper: middleware.DefaultSkipper,
}

// BodyLimit returns middleware that rejects request bodies larger than limit
// bytes with 413; limit zero or less accepts any size.
func BodyLimit(limit int64) echo.MiddlewareFunc {
	cfg := DefaultBodyLimitConfig
	cfg.Limit = limit
	return BodyLimitWithConfig(cfg)
}

// BodyLimitWithConfig returns BodyLimit with cfg; zero fields take their
// defaults.
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
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultBodyLimitConfig.Skipper
	}
	detail := bodyLimitDetail(cfg.Limit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			if cfg.Limit > 0 {
				if r.ContentLength > cfg.Limit {
					return problem.NewError(http.StatusRequestEntityTooLarge, detail)
				}
				// The net/http writer, not Echo's wrapper: only it can mark
				// the connection to close after the 413.
				r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, cfg.Limit)
			}
			r.Body = &requestBody{ReadCloser: r.Body, info: reqinfo.FromContext(r.Context())}
			return next(c)
		}
	}
}
