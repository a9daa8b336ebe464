package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/troupehq/troupe/problem"
)

// Client-visible details for errors whose cause must stay on the server.
const (
	internalErrorDetail = "The server encountered an unexpected condition."
	serverErrorDetail   = "The server could not complete the request."
	deadlineDetail      = "The request did not complete within its time limit."
)

// errorRenderer is the core of ErrorHandler.
type errorRenderer struct{ logger *slog.Logger }

// newErrorRenderer returns the core logging to logger, slog.Default() when
// nil.
func newErrorRenderer(logger *slog.Logger) *errorRenderer {
	if logger == nil {
		logger = slog.Default()
	}
	return &errorRenderer{logger: logger}
}

// foreignError maps an error type of the web framework (Echo's
// *echo.HTTPError) to the problem to send and the level to log at; nil
// when err holds none.
type foreignError func(err error) (*problem.Error, slog.Level)

// render answers err on w, unless res says the response is committed, and
// logs it; foreign maps the framework's own error type.
func (h *errorRenderer) render(w http.ResponseWriter, r *http.Request, res responseState, err error, foreign foreignError) {
	pe, level := problemFor(err, r, foreign)
	if res.committed {
		logError(h.logger, r, level, "error after the response was committed", res.status, err)
		return
	}
	if pe == nil { // the client has gone; nobody is left to read a response
		logError(h.logger, r, level, "request abandoned by the client", 0, err)
		return
	}
	logError(h.logger, r, level, "request failed", pe.Status, err)
	pe.Render(w, r)
}

// problemFor maps err to the problem to send and the level to log it at. A nil
// problem means nothing should be sent.
//
// A body the client failed to send is looked for first: the failure is the
// client's whatever a handler wrapped the read error in, its own problem
// included. A body over the limit comes before the framework's error type,
// since binders wrap the one in the other.
func problemFor(err error, r *http.Request, foreign foreignError) (*problem.Error, slog.Level) {
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
	if foreign != nil {
		if pe, level := foreign(err); pe != nil {
			return pe, level
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return problem.NewError(http.StatusServiceUnavailable, deadlineDetail), slog.LevelWarn
	case errors.Is(err, context.Canceled):
		if r.Context().Err() != nil {
			return nil, slog.LevelDebug
		}
		return problem.NewError(http.StatusServiceUnavailable, serverErrorDetail), slog.LevelWarn
	}
	return problem.NewError(http.StatusInternalServerError, internalErrorDetail), slog.LevelError
}

// statusProblem is the problem for an error that carries an HTTP status
// code and a message, as Echo's *echo.HTTPError does. Only 4xx messages
// reach the client: a 5xx message is as likely to hold a driver error as a
// sentence. A code outside 400–599 is a 500. allow is the Allow list of a
// 405, "" when the response header has one already.
func statusProblem(code int, message any, allow string) (*problem.Error, slog.Level) {
	status := code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	pe := problem.NewError(status, "")
	if status >= 500 {
		pe.Detail = serverErrorDetail
	} else {
		switch m := message.(type) {
		case string:
			pe.Detail = m
		case error:
			pe.Detail = m.Error()
		}
		if pe.Detail == pe.Title {
			pe.Detail = ""
		}
	}
	if status == http.StatusMethodNotAllowed && allow != "" {
		pe.WithHeader("Allow", allow)
	}
	return pe, levelFor(code)
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
