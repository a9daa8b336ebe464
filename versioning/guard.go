package versioning

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// versionGuard is the outermost layer of every route of one version: it
// labels the request, counts it, announces deprecation and refuses requests
// after the sunset. Everything it sends is computed at Mount.
type versionGuard struct {
	label     string
	onRequest func(string)
	headers   *headerFields // nil: not deprecated
	sunset    time.Time     // zero: never refuses
	now       func() time.Time
	gone      problem.Details
}

func newVersionGuard(a *API, n int, opts MountOptions, now func() time.Time) *versionGuard {
	v := &versionGuard{label: label(n), onRequest: opts.OnRequest, now: now}
	d := a.deprecations[n]
	if d == nil {
		return v
	}
	v.headers = renderHeaders(d, a.prefix)
	if opts.EnforceSunset && !d.sunset.IsZero() {
		v.sunset = d.sunset
		detail := "API " + v.label + " was retired on " + d.sunset.Format(http.TimeFormat)
		if d.successor != 0 {
			detail += "; use " + a.versionPath(d.successor) + " instead"
		}
		v.gone = problem.New(http.StatusGone, detail+".")
	}
	return v
}

// wrap returns next guarded by v. The deprecation fields are set before next
// runs so that every response carries them, error responses included.
func (v *versionGuard) wrap(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if info := reqinfo.FromContext(r.Context()); info != nil {
			info.APIVersion = v.label
		}
		if v.onRequest != nil {
			v.onRequest(v.label)
		}
		if v.headers != nil {
			v.headers.apply(c.Response().Header())
		}
		if !v.sunset.IsZero() && !v.now().Before(v.sunset) {
			problem.Write(c.Response(), r, v.gone)
			return nil
		}
		return next(c)
	}
}
