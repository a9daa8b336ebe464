package versioning

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// API is a set of numbered versions of an application's routes under one base
// path. Build it with New, Version and Deprecate, then Mount it on an Echo
// instance.
//
// Builder methods never panic on bad input: they record the mistake and carry
// on, and Mount reports every recorded mistake at once, so a misconfigured
// service fails before it serves and its operator sees the whole list. An API
// is not safe for concurrent use while it is being built.
type API struct {
	prefix       string // the base without a trailing slash; "" for the root
	versions     map[int]*Group
	deprecations map[int]*deprecation
	errs         []error
}

// New starts an API whose versions live under base: New("/api") serves
// version 1 at /api/v1. A base of "" or "/" puts the versions at the root
// (/v1). A single trailing slash is ignored. The base must start with "/" and
// may contain only literal path segments — no Echo parameters (":id", "*"),
// empty, "." or ".." segments, percent-escapes, queries or fragments — because
// it is a fixed prefix, not a route pattern.
func New(base string) *API {
	a := &API{
		versions:     make(map[int]*Group),
		deprecations: make(map[int]*deprecation),
	}
	prefix, err := normalizeBase(base)
	if err != nil {
		a.errs = append(a.errs, err)
	}
	a.prefix = prefix
	return a
}

// Version adds version n (n ≥ 1) and calls routes to declare its routes.
// routes runs immediately, once.
func (a *API) Version(n int, routes func(*Group)) *API {
	switch {
	case n < 1:
		a.errorf("version %d: version numbers start at 1", n)
	case routes == nil:
		a.errorf("v%d: nil routes function", n)
	case a.versions[n] != nil:
		a.errorf("v%d: defined twice", n)
	default:
		g := &Group{api: a, version: n, prefix: a.versionPath(n), seen: make(map[string]bool)}
		a.versions[n] = g
		routes(g)
	}
	return a
}

// Deprecate marks version n deprecated. Its responses then carry the
// Deprecation, Sunset and Link header fields the options describe, and after
// its Sunset it answers 410 Gone (see MountOptions.EnforceSunset).
//
// Without Since the deprecation date is the moment of this call (see Since).
// Deprecate may be called before or after Version(n); Mount checks that n and
// any Successor exist.
func (a *API) Deprecate(n int, opts ...DeprecationOption) *API {
	d := &deprecation{}
	for _, opt := range opts {
		if opt == nil {
			a.errorf("v%d: nil deprecation option", n)
			continue
		}
		opt(d)
	}
	for _, msg := range d.errs {
		a.errorf("v%d: %s", n, msg)
	}
	if !d.sinceSet {
		d.since = defaultSince(time.Now(), d.sunset)
	}
	if a.deprecations[n] != nil {
		a.errorf("v%d: deprecated twice", n)
		return a
	}
	a.deprecations[n] = d
	return a
}

// Base returns the path the version listing is served at: the normalized
// base given to New, or "/" for the root.
func (a *API) Base() string {
	if a.prefix == "" {
		return "/"
	}
	return a.prefix
}

// versionPath is the root path of version n, base included.
func (a *API) versionPath(n int) string {
	return a.prefix + "/" + label(n)
}

func (a *API) errorf(format string, args ...any) {
	a.errs = append(a.errs, fmt.Errorf("versioning: "+format, args...))
}

// label is the name of version n in paths, metrics and logs: "v1".
func label(n int) string {
	return "v" + strconv.Itoa(n)
}

// normalizeBase validates base and strips its trailing slash. On error it
// still returns a usable prefix so that paths derived from it read sensibly
// in Versions; Mount refuses the API anyway.
func normalizeBase(base string) (string, error) {
	if base == "" || base == "/" {
		return "", nil
	}
	prefix := strings.TrimSuffix(base, "/")
	invalid := func(reason string) (string, error) {
		return prefix, fmt.Errorf("versioning: invalid base %q: %s", base, reason)
	}
	if !strings.HasPrefix(prefix, "/") {
		return invalid(`must start with "/"`)
	}
	for seg := range strings.SplitSeq(prefix[1:], "/") {
		switch seg {
		case "":
			return invalid("empty path segment")
		case ".", "..":
			return invalid(fmt.Sprintf("%q segment", seg))
		}
		for _, c := range []byte(seg) {
			if !isBaseChar(c) {
				return invalid(fmt.Sprintf("character %q not allowed", c))
			}
		}
	}
	return prefix, nil
}

// isBaseChar reports whether c may appear literally in a base path segment:
// RFC 3986 pchar without ":" (an Echo parameter), "*" (an Echo wildcard) and
// "%" (escapes would make the registered and the matched path differ).
func isBaseChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()+,;=@", c) >= 0
}
