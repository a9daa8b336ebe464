package versioning

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Group collects the routes of one API version. API.Version hands it to the
// routes function; paths given to it are relative to the version root, so
// g.GET("/notes", h) in version 2 of New("/api") serves GET /api/v2/notes.
type Group struct {
	api        *API
	version    int
	prefix     string // version root, e.g. "/api/v2"
	routes     []*Route
	middleware []echo.MiddlewareFunc
	seen       map[string]bool // method + " " + path, to catch duplicates
}

// Route is one method and path registered in a version.
type Route struct {
	group      *Group
	method     string
	path       string
	version    int
	handler    echo.HandlerFunc
	middleware []echo.MiddlewareFunc

	// transport is "websocket" or "sse" for a realtime route, "" otherwise.
	transport string

	// Access settings; see access.go.
	public                      bool
	action                      string
	resourceType, resourceParam string
	groupName                   string
}

// Method returns the route's HTTP method.
func (r *Route) Method() string { return r.method }

// Path returns the full path template, base and version included:
// "/api/v2/notes/:id".
func (r *Route) Path() string { return r.path }

// Version returns the number of the version the route belongs to.
func (r *Route) Version() int { return r.version }

// Version returns the group's version number.
func (g *Group) Version() int { return g.version }

// Use adds middleware to every route of the group — including routes added
// before the call, because the chain is assembled at Mount. Group middleware
// runs inside MountOptions.Middleware and outside each route's own
// middleware, in the order given.
func (g *Group) Use(m ...echo.MiddlewareFunc) {
	for _, mw := range m {
		if mw == nil {
			g.api.errorf("%s: Use: nil middleware", label(g.version))
			continue
		}
		g.middleware = append(g.middleware, mw)
	}
}

// GET registers a route for GET requests to path.
func (g *Group) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodGet, path, h, m...)
}

// HEAD registers a route for HEAD requests to path.
func (g *Group) HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodHead, path, h, m...)
}

// POST registers a route for POST requests to path.
func (g *Group) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodPost, path, h, m...)
}

// PUT registers a route for PUT requests to path.
func (g *Group) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodPut, path, h, m...)
}

// PATCH registers a route for PATCH requests to path.
func (g *Group) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodPatch, path, h, m...)
}

// DELETE registers a route for DELETE requests to path.
func (g *Group) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodDelete, path, h, m...)
}

// OPTIONS registers a route for OPTIONS requests to path.
func (g *Group) OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	return g.Add(http.MethodOptions, path, h, m...)
}

// Realtime transports, the values of Route.Transport.
const (
	TransportWebSocket = "websocket"
	TransportSSE       = "sse"
)

// WS registers a WebSocket endpoint at path: a GET route served by h, an
// http.Handler that performs the upgrade itself (realtime.Handler). It runs
// behind the same middleware as every route, so the handshake is
// authenticated, rate-limited and authorized before h upgrades it, and a
// refusal is an ordinary problem response. Its authorization action is
// "connect" unless Action names another. h also receives the requests for
// this path that ask for an event stream: realtime.Handler serves both
// from one route. Path parameters reach h through r.PathValue.
func (g *Group) WS(path string, h http.Handler, m ...echo.MiddlewareFunc) *Route {
	return g.realtime(path, h, TransportWebSocket, m)
}

// SSE registers a Server-Sent Events endpoint at path, as WS does a
// WebSocket one: a GET route served by h, with the authorization action
// "connect".
func (g *Group) SSE(path string, h http.Handler, m ...echo.MiddlewareFunc) *Route {
	return g.realtime(path, h, TransportSSE, m)
}

func (g *Group) realtime(path string, h http.Handler, transport string, m []echo.MiddlewareFunc) *Route {
	var eh echo.HandlerFunc
	if h != nil {
		eh = serveHTTP(h)
	}
	r := g.Add(http.MethodGet, path, eh, m...)
	r.transport, r.action = transport, "connect"
	return r
}

// Transport returns "websocket" for a route registered with WS, "sse" for
// SSE, and "" for any other, so that a service can tell realtime routes
// apart.
func (r *Route) Transport() string { return r.transport }

// Add registers a route for method and path (relative to the version root,
// starting with "/", Echo syntax: "/notes/:id", "/files/*") with h and
// route-level middleware m, which runs innermost, in the order given.
//
// Mistakes — an invalid method or path, a nil handler or middleware, a
// method and path already registered in this version — are reported by
// Mount; the route is then not registered, but the returned Route still
// describes it.
func (g *Group) Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *Route {
	r := &Route{group: g, method: method, path: g.prefix + path, version: g.version, handler: h, middleware: m}
	where := label(g.version) + ": " + method + " " + path
	ok := true
	fail := func(reason string) {
		g.api.errorf("%s: %s", where, reason)
		ok = false
	}
	if !isToken(method) {
		fail("invalid method")
	}
	if !strings.HasPrefix(path, "/") {
		fail(`path must start with "/"`)
	} else if strings.ContainsFunc(path, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '?' || c == '#' }) {
		fail("path contains a space, control character, '?' or '#'")
	}
	if h == nil {
		fail("nil handler")
	}
	for _, mw := range m {
		if mw == nil {
			fail("nil middleware")
			break
		}
	}
	key := method + " " + path
	if ok && g.seen[key] {
		fail("registered twice in this version")
	}
	if ok {
		g.seen[key] = true
		g.routes = append(g.routes, r)
	}
	return r
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), the syntax of
// a method name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}
