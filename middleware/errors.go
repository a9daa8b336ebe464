package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/problem"
)

// Client-visible details for errors whose cause must stay on the server.
const (
	internalErrorDetail = "The server encountered an unexpected condition."
	serverErrorDetail   = "The server could not complete the request."
	deadlineDetail      = "The request did not complete within its time limit."
)

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
//   - *echo.HTTPError keeps its status; a string message becomes the detail
//     for 4xx, 5xx get a generic detail. Headers set before it was returned
//     (405's Allow) are kept.
//   - context.DeadlineExceeded is 503.
//   - context.Canceled is 503, or nothing at all when the client has gone.
//   - anything else is 500 with a generic detail, logged at ERROR.
//
// When the response is already committed nothing is written; the error is
// only logged. A nil logger means slog.Default().
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(err error, c echo.Context) {
		r := c.Request()
		res := c.Response()
		pe, level := problemFor(err, c)
		if res.Committed {
			logError(logger, r, level, "error after the response was committed", res.Status, err)
			return
		}
		if pe == nil { // the client has gone; nobody is left to read a response
			logError(logger, r, level, "request abandoned by the client", 0, err)
			return
		}
		logError(logger, r, level, "request failed", pe.Status, err)
		pe.Render(res, r)
	}
}

// problemFor maps err to the problem to send and the level to log it at. A nil
// problem means nothing should be sent.
//
// A body the client failed to send is looked for first: the failure is the
// client's whatever a handler wrapped the read error in, its own problem
// included.
func problemFor(err error, c echo.Context) (*problem.Error, slog.Level) {
	var be *bodyReadError
	if errors.As(err, &be) {
		return be.problem()
	}
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe, levelFor(pe.Status)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return problem.NewError(http.StatusRequestEntityTooLarge, bodyLimitDetail(tooLarge.Limit)), slog.LevelDebug
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		return httpErrorProblem(he, c), levelFor(he.Code)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return problem.NewError(http.StatusServiceUnavailable, deadlineDetail), slog.LevelWarn
	case errors.Is(err, context.Canceled):
		if c.Request().Context().Err() != nil {
			return nil, slog.LevelDebug
		}
		return problem.NewError(http.StatusServiceUnavailable, serverErrorDetail), slog.LevelWarn
	}
	return problem.NewError(http.StatusInternalServerError, internalErrorDetail), slog.LevelError
}

// httpErrorProblem converts Echo's error type. Only 4xx messages reach the
// client: a 5xx message is as likely to hold a driver error as a sentence.
func httpErrorProblem(he *echo.HTTPError, c echo.Context) *problem.Error {
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	pe := problem.NewError(status, "")
	if status >= 500 {
		pe.Detail = serverErrorDetail
	} else {
		switch m := he.Message.(type) {
		case string:
			pe.Detail = m
		case error:
			pe.Detail = m.Error()
		}
		if pe.Detail == pe.Title {
			pe.Detail = ""
		}
	}
	if status == http.StatusMethodNotAllowed && c.Response().Header().Get(echo.HeaderAllow) == "" {
		if allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && allow != "" {
			pe.WithHeader(echo.HeaderAllow, allow)
		}
	}
	return pe
}

// levelFor keeps client mistakes out of the error log: the access log already
// records them. 503 is the sound of load shedding working, not a fault.
func levelFor(status int) slog.Level {
	switch {
	case status < 500:
		return slog.LevelDebug
	case status == http.StatusServiceUnavailable:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func bodyLimitDetail(limit int64) string {
	return "The request body exceeds the limit of " + strconv.FormatInt(limit, 10) + " bytes."
}

func logError(logger *slog.Logger, r *http.Request, level slog.Level, msg string, status int, err error) {
	ctx := r.Context()
	if !logger.Enabled(ctx, level) {
		return
	}
	logger.LogAttrs(ctx, level, msg,
		slog.String("request_id", RequestIDFrom(ctx)),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Any("error", err),
	)
}
