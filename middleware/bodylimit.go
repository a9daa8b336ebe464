package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/problem"
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
// bytes with 413; limit zero or less disables it.
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
func BodyLimitWithConfig(cfg BodyLimitConfig) echo.MiddlewareFunc {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultBodyLimitConfig.Skipper
	}
	if cfg.Limit <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	detail := bodyLimitDetail(cfg.Limit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			if r.ContentLength > cfg.Limit {
				return problem.NewError(http.StatusRequestEntityTooLarge, detail)
			}
			if r.Body != nil && r.Body != http.NoBody {
				// The net/http writer, not Echo's wrapper: only it can mark
				// the connection to close after the 413.
				r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, cfg.Limit)
			}
			return next(c)
		}
	}
}
