package versioning

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/chain"
)

// This file is the package's Echo glue: mounting an API on an *echo.Echo,
// each route's composed chain, and the adapters of the version guard, the
// version listing and realtime routes' http.Handlers. group.go takes Echo's handler and middleware types
// in its public API; everything else in the package is Echo-free.

// MountOptions tune how an API is served. The zero value serves sunset
// versions as usual; Troupe's service sets EnforceSunset from the config key
// versioning.enforce_sunset, whose default is true.
type MountOptions struct {
	// EnforceSunset makes a version's routes answer 410 Gone (problem+json)
	// from its sunset on, without calling the handler. False keeps serving
	// them, still announcing the sunset in the Sunset field.
	EnforceSunset bool
	// Now returns the current time for sunset decisions and the listing's
	// statuses; nil means time.Now. Tests inject a clock here.
	Now func() time.Time
	// OnRequest, when set, is called once per request routed to a version,
	// with its label ("v1") — before the sunset check, so traffic that still
	// reaches a retired version is counted. It is the hook for per-version
	// metrics and logs; it must be safe for concurrent use.
	OnRequest func(version string)
	// Middleware wraps every versioned route, outermost first, inside the
	// version's own handling (version label, deprecation fields, sunset) and
	// outside the group's and the route's middleware. Later subsystems, such
	// as authentication, plug in here.
	Middleware []echo.MiddlewareFunc
}

// Mount registers every route of the API on e at its full path, and the
// version listing at the base (GET {base} and GET {base}/). It reports all
// builder mistakes and invalid options together, joined with errors.Join;
// on error it registers nothing.
//
// Routes go directly onto e rather than through echo.Group, whose Use adds
// catch-all routes that would turn 405 Method Not Allowed into 404.
func (a *API) Mount(e *echo.Echo, opts MountOptions) error {
	var noEcho error
	if e == nil {
		noEcho = errors.New("versioning: Mount on a nil *echo.Echo")
	}
	if err := a.check(noEcho, opts); err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	for _, n := range a.numbers() {
		g := a.versions[n]
		guard := newVersionGuard(a, n, opts, now)
		for _, rt := range g.routes {
			// The chain is composed here, once: Echo's own route middleware
			// is re-applied on every request.
			h := chain.Wrap(rt.handler, slices.Concat(opts.Middleware, g.middleware, rt.middleware)...)
			er := e.Add(rt.method, rt.path, guarded(guard, h))
			// Keep Echo's route name that of the application handler, so
			// e.Reverse and e.URI(handler) work as with plain Echo routes.
			er.Name = funcName(rt.handler)
		}
	}
	list := serveListing(newListing(a, now))
	if a.prefix == "" {
		e.GET("/", list)
	} else {
		e.GET(a.prefix, list)
		e.GET(a.prefix+"/", list)
	}
	return nil
}

// guarded returns next behind v.
func guarded(v *versionGuard, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !v.admit(c.Response(), c.Request()) {
			return nil
		}
		return next(c)
	}
}

// serveListing serves l's version list as JSON, through Echo so that its
// JSON rendering (?pretty included) is Echo's.
func serveListing(l *listing) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.JSON(http.StatusOK, l.body())
	}
}

// serveHTTP adapts a realtime route's http.Handler: Echo's path parameters
// become the request's path values (r.PathValue), and the response writer is
// Echo's, which records the status for the access log and reaches the
// connection for a hijack through Unwrap.
func serveHTTP(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			if i < len(values) {
				r.SetPathValue(name, values[i])
			}
		}
		h.ServeHTTP(c.Response(), r)
		return nil
	}
}
