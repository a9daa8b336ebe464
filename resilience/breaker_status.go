package resilience

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/problem"
)

// errorStatus is the status the service's error handler
// (middleware.ErrorHandler) renders err as. The breaker sits inside the
// handler that renders errors, so it must predict the status to tell a 4xx
// from a 5xx. Keep it in step with middleware/errors.go.
func errorStatus(err error) int {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe.Status
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		if he.Code < 400 || he.Code > 599 {
			return http.StatusInternalServerError
		}
		return he.Code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
