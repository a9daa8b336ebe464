package middleware

import (
	"errors"
	"io"
	"net/http"
	"os"

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
// Whatever the limit, a read of the body that fails because the client was
// slower than the server's read timeout (http.read_timeout) fails with a 408
// problem instead of the bare i/o error: the client was too slow, the server
// is not at fault. Only reads of the request body are classified so; a
// handler's own dependency timing out is still a server error.
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
			r.Body = &requestBody{ReadCloser: r.Body}
			return next(c)
		}
	}
}

// requestBody turns a read that hit the connection's read deadline into a
// 408 problem, which the handler's error passes on to ErrorHandler (through
// any wrapping by a binder or decoder).
type requestBody struct {
	io.ReadCloser
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, &problem.Error{Details: problem.New(http.StatusRequestTimeout, requestTimeoutDetail), Err: err}
	}
	return n, err
}

const requestTimeoutDetail = "The request body was not received before the server's read timeout."
