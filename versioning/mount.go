package versioning

import (
	"errors"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"time"
)

// check returns every reason the API cannot be mounted with opts, starting
// with the builder's mistakes; noEcho, when not nil, is the web framework's
// own reason.
func (a *API) check(noEcho error, opts MountOptions) error {
	errs := slices.Clone(a.errs)
	if noEcho != nil {
		errs = append(errs, noEcho)
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
	// A stable error order reads better.
	for _, n := range slices.Sorted(maps.Keys(a.deprecations)) {
		errs = append(errs, a.deprecations[n].validate(a, n)...)
	}
	return errors.Join(errs...)
}

// numbers returns the API's version numbers in order.
func (a *API) numbers() []int {
	return slices.Sorted(maps.Keys(a.versions))
}

// funcName is the name Echo itself gives a route registered with the
// handler h, a func value.
func funcName(h any) string {
	return runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
}

// listing is the version list served at the API's base, with statuses as
// of each request.
type listing struct {
	infos []VersionInfo // a snapshot: later builder calls do not race with requests
	now   func() time.Time
}

func newListing(a *API, now func() time.Time) *listing {
	return &listing{infos: a.describe(), now: now}
}

// body returns the listing's JSON document as of now.
func (l *listing) body() any {
	t := l.now()
	body := struct {
		Versions []VersionInfo `json:"versions"`
	}{Versions: slices.Clone(l.infos)}
	for i := range body.Versions {
		body.Versions[i].Status = statusAt(&body.Versions[i], t)
	}
	return body
}
