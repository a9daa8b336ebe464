// Package reqinfo carries the per-request facts that several Troupe packages
// share — the request ID, the matched route, the client IP, the API version —
// in the request context, without tying any of them to Echo.
//
// The request-ID middleware installs one *Info per request, with the route
// and client IP its web-framework adapter knows; inner layers fill in what
// they learn (the versioning group sets APIVersion, the body-limit
// stage records a client fault) and outer layers (the access log, metrics,
// the circuit breaker) read it after the handler returns. Because the value
// is a pointer, an inner layer's write is visible to an outer layer without
// re-deriving the request.
package reqinfo

import (
	"context"
	"sync/atomic"
)

// Info holds what is known about one request. It is owned by the goroutine
// serving the request; its exported fields are written before the handler
// runs or by the handler chain itself, never concurrently. The client-fault
// state (see fault.go) is atomic, since the timeout stage's timer reads it
// from a goroutine of its own.
type Info struct {
	// ID is the request ID echoed in X-Request-ID and problem responses.
	ID string
	// Route is the template of the route the router matched
	// ("/api/v2/notes/:id"), or "" when none matched (404, 405). It is set
	// with ID, so stages that decide per route need not ask the router.
	Route string
	// ClientIP is the client's address as the service's trusted-proxy rule
	// (http.trusted_proxies) resolves it, set with ID, so every stage that
	// keys or logs by client agrees on it and it is worked out once.
	ClientIP string
	// APIVersion is the version label ("v1", "v2") of the versioned group
	// that matched, or "" outside versioned routes.
	APIVersion string
	// Principal is the authenticated party (an *authz.Principal), set by
	// the authentication stage; nil for anonymous requests. Keeping it here
	// spares each authenticated request a context copy.
	Principal any

	bodyReads   atomic.Int32 // reads of the request body under way
	clientFault atomic.Bool  // see SetClientFault
}

type ctxKey struct{}

// Context is a context.Context that carries an Info inline: FromContext on it,
// or on a context derived from it, returns a pointer to its Info field. It
// does what NewContext does, but as a value a caller can embed in a record of
// its own, so a middleware that makes one per request can allocate it
// together with the rest of that request's state.
//
// Set Context to the parent before use; the zero value is not a usable
// context.
type Context struct {
	context.Context
	Info Info
}

// Value returns &c.Info for the key FromContext uses and defers to the
// parent for every other key.
func (c *Context) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.Info
	}
	return c.Context.Value(key)
}

// NewContext returns a copy of ctx that carries info.
func NewContext(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// FromContext returns the Info stored in ctx, or nil when there is none.
func FromContext(ctx context.Context) *Info {
	info, _ := ctx.Value(ctxKey{}).(*Info)
	return info
}

// RequestID returns the request ID stored in ctx, or "".
func RequestID(ctx context.Context) string {
	if info := FromContext(ctx); info != nil {
		return info.ID
	}
	return ""
}
