package versioning

import (
	"net/http"
	"time"

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

// admit labels and counts r, sets the deprecation fields on w's header and
// reports whether r may go on to its handler: false from the sunset on,
// when it has answered 410 Gone on w. The fields are set first so that
// every response carries them, error responses included.
func (v *versionGuard) admit(w http.ResponseWriter, r *http.Request) bool {
	if info := reqinfo.FromContext(r.Context()); info != nil {
		info.APIVersion = v.label
	}
	if v.onRequest != nil {
		v.onRequest(v.label)
	}
	if v.headers != nil {
		v.headers.apply(w.Header())
	}
	if !v.sunset.IsZero() && !v.now().Before(v.sunset) {
		problem.Write(w, r, v.gone)
		return false
	}
	return true
}
