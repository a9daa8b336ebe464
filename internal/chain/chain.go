// Package chain composes Echo middleware around a handler. Troupe composes
// its chains once, at start-up — the request path (middleware.Chain), each
// versioned route (versioning), a stage made of several (the service's load
// shedding slot) — rather than per request as Echo v4 does for its own
// middleware, so a request pays no closure allocation for its chain. This is
// the one place that composition is written.
package chain

import "github.com/labstack/echo/v4"

// Wrap returns h inside m, m[0] outermost: a request runs m[0], then m[1],
// and so on down to h. Nil entries are skipped, so callers can pass optional
// stages as they are.
func Wrap(h echo.HandlerFunc, m ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] != nil {
			h = m[i](h)
		}
	}
	return h
}

// Compose returns m as one middleware, m[0] outermost, with nil entries
// skipped; it returns nil when no entry is left, so an empty slot stays empty.
// The composed middleware wraps each handler it is given once, with Wrap.
func Compose(m ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	var kept []echo.MiddlewareFunc
	for _, mw := range m {
		if mw != nil {
			kept = append(kept, mw)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc { return Wrap(next, kept...) }
}
