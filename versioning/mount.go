package versioning

import (
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
)

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
	if err := a.check(e, opts); err != nil {
		return err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	numbers := make([]int, 0, len(a.versions))
	for n := range a.versions {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		g := a.versions[n]
		guard := newVersionGuard(a, n, opts, now)
		for _, rt := range g.routes {
			// The chain is composed here, once: Echo's own route middleware
			// is re-applied on every request.
			h := chain(rt.handler, rt.middleware)
			h = chain(h, g.middleware)
			h = chain(h, opts.Middleware)
			er := e.Add(rt.method, rt.path, guard.wrap(h))
			// Keep Echo's route name that of the application handler, so
			// e.Reverse and e.URI(handler) work as with plain Echo routes.
			er.Name = funcName(rt.handler)
		}
	}
	list := a.listing(now)
	if a.prefix == "" {
		e.GET("/", list)
	} else {
		e.GET(a.prefix, list)
		e.GET(a.prefix+"/", list)
	}
	return nil
}

// check returns every reason the API cannot be mounted on e with opts.
func (a *API) check(e *echo.Echo, opts MountOptions) error {
	errs := slices.Clone(a.errs)
	if e == nil {
		errs = append(errs, errors.New("versioning: Mount on a nil *echo.Echo"))
	}
	if len(a.versions) == 0 {
		errs = append(errs, errors.New("versioning: no versions defined"))
	}
	for _, m := range opts.Middleware {
		if m == nil {
			errs = append(errs, errors.New("versioning: MountOptions.Middleware: nil middleware"))
			break
		}
	}
	deprecated := make([]int, 0, len(a.deprecations))
	for n := range a.deprecations {
		deprecated = append(deprecated, n)
	}
	slices.Sort(deprecated) // a stable error order reads better
	for _, n := range deprecated {
		errs = append(errs, a.deprecations[n].validate(a, n)...)
	}
	return errors.Join(errs...)
}

// chain wraps h in m, m[0] outermost.
func chain(h echo.HandlerFunc, m []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// funcName is the name Echo itself gives a route registered with h.
func funcName(h echo.HandlerFunc) string {
	return runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
}

// listing serves the version list with statuses as of each request.
func (a *API) listing(now func() time.Time) echo.HandlerFunc {
	infos := a.describe() // a snapshot: later builder calls do not race with requests
	return func(c echo.Context) error {
		t := now()
		body := struct {
			Versions []VersionInfo `json:"versions"`
		}{Versions: slices.Clone(infos)}
		for i := range body.Versions {
			body.Versions[i].Status = statusAt(&body.Versions[i], t)
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.JSON(http.StatusOK, body)
	}
}
