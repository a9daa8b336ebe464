package problem

import (
	"fmt"
	"net/http"
)

// Error is an error that renders as a specific problem response. Middleware
// returns it (for example a 429 with Retry-After, or a 401 with
// WWW-Authenticate) and the service's error handler writes it, so every error
// response goes through one renderer.
type Error struct {
	Details
	// Header holds extra response header fields sent with the problem.
	Header http.Header
	// Err is the underlying cause. It is logged, never sent to the client.
	Err error
}

// NewError returns an Error for status with the given client-visible detail.
func NewError(status int, detail string) *Error {
	return &Error{Details: New(status, detail)}
}

// Error reports the status, detail and cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Title, e.Detail, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WithHeader sets a response header field and returns e.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = make(http.Header, 1)
	}
	e.Header.Set(key, value)
	return e
}

// Render writes e to w: its header fields first, then the problem document.
func (e *Error) Render(w http.ResponseWriter, r *http.Request) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	Write(w, r, e.Details)
}
