package middleware

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// Client-visible details of a body the client failed to send.
const (
	bodyUnreadableDetail = "The request body could not be read: it was malformed or cut short."
	requestTimeoutDetail = "The request body was not received before the server's read timeout."
	slowBodyDetail       = "The request body was not received within the request's time limit."
)

// requestBody is the request body as the handler reads it. Below it lie only
// net/http's reader of the connection and the body limit, so a read error is
// the client's doing — a malformed chunked encoding, a body shorter than its
// Content-Length, a client slower than the read timeout, a connection reset
// — with one exception: a read after the handler closed the body, its own
// bug. The client's errors become a *bodyReadError and mark the request
// (reqinfo.Info.SetClientFault); *http.MaxBytesError is marked and passed on
// as it is, for handlers that look for it. Each read is also bracketed in
// the Info, so the timeout stage can tell a handler waiting for the client.
type requestBody struct {
	io.ReadCloser
	info   *reqinfo.Info // nil without the request-ID stage
	closed atomic.Bool   // Close was called; a handler may close from another goroutine
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.info.BeginBodyRead()
	n, err := b.ReadCloser.Read(p)
	b.info.EndBodyRead()
	if err == nil || err == io.EOF || b.closed.Load() {
		return n, err
	}
	return n, b.classify(err)
}

func (b *requestBody) Close() error {
	b.closed.Store(true)
	return b.ReadCloser.Close()
}

// classify turns a read error into the client's fault, or leaves it alone
// when it is the server's.
func (b *requestBody) classify(err error) error {
	var tooLarge *http.MaxBytesError
	var already *bodyReadError
	switch {
	case errors.Is(err, http.ErrBodyReadAfterClose):
		return err
	case errors.As(err, &already): // a second body-limit stage further out
		b.info.SetClientFault()
		return err
	case errors.As(err, &tooLarge):
		b.info.SetClientFault()
		return err
	}
	b.info.SetClientFault()
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		status = http.StatusRequestTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		status = 0
	}
	return &bodyReadError{status: status, err: err}
}

// bodyReadError is how a read of the request body fails when the client is
// at fault. ErrorHandler renders it through whatever a handler or binder
// wrapped it in, with a generic detail; the cause is logged, never sent.
type bodyReadError struct {
	status int   // 400 or 408; 0 when the connection is gone and nobody can be answered
	err    error // the cause
}

func (e *bodyReadError) Error() string { return "request body could not be read: " + e.err.Error() }

func (e *bodyReadError) Unwrap() error { return e.err }

// problem returns what to send and the level to log the cause at: INFO, as
// a broken client or proxy is worth an operator's notice but is no server
// fault, or DEBUG with nothing to send when the client has gone, as for a
// cancelled request.
func (e *bodyReadError) problem() (*problem.Error, slog.Level) {
	switch e.status {
	case 0:
		return nil, slog.LevelDebug
	case http.StatusRequestTimeout:
		return problem.NewError(e.status, requestTimeoutDetail), slog.LevelInfo
	}
	return problem.NewError(e.status, bodyUnreadableDetail), slog.LevelInfo
}
