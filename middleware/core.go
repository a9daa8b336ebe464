package middleware

import (
	"context"
	"errors"
	"net/http"
)

// Each stage of this package is an Echo-free core — the decisions, made on
// *http.Request, http.ResponseWriter, *reqinfo.Info and problem.Error —
// behind an adapter in echo.go that speaks Echo's dialect. The adapter
// passes a core what only the web framework knows: the route it matched,
// the client IP by its trusted-proxy rule, and what its response writer has
// recorded. A move to another framework, or to Echo v5, rewrites echo.go
// and chain.go and leaves the cores alone.

// Skipper decides per request whether a stage lets the request through
// untouched: true skips the stage. It sees only the request, so it reads the
// same whatever serves it; the route and client IP are in the request's
// reqinfo.Info for a Skipper that needs them.
type Skipper func(r *http.Request) bool

// DefaultSkipper skips no request.
func DefaultSkipper(*http.Request) bool { return false }

// requestFacts is what the web framework knows of a request that the request
// itself does not say.
type requestFacts struct {
	route    string // the matched route template; "" when none matched (404, 405)
	clientIP string // by the service's trusted-proxy rule
}

// responseState is what the web framework's response writer has recorded of
// the response so far.
type responseState struct {
	status    int   // the status sent; meaningful once committed
	size      int64 // body bytes written
	committed bool  // the status line has been written
}

// statusOf returns the status a request ended with, as the access log and
// telemetry report it: 500 while a panic unwinds (completed is false), 499
// when the client left before any response, else what was sent.
func statusOf(r *http.Request, res responseState, completed bool) int {
	switch {
	case !completed:
		return http.StatusInternalServerError
	case !res.committed && errors.Is(r.Context().Err(), context.Canceled):
		return statusClientClosedRequest
	}
	return res.status
}
