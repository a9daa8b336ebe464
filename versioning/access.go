package versioning

import (
	"maps"
	"slices"
	"strings"
)

// Access settings are what the service's authentication and authorization
// stages need to know about a route. They are declared here, next to the
// route, so a route's protection is read where the route is; versioning only
// records them and leaves their meaning to the service.

// Public marks the route as open: no token is asked for and no policy is
// consulted. Routes are protected by default whenever authentication is
// configured, so forgetting Public fails closed.
func (r *Route) Public() *Route {
	r.public = true
	return r
}

// Action names the route's authorization action, replacing the default
// "<METHOD> <path template>" ("DELETE /api/v2/notes/:id"), so several routes
// can share one action in the policies. An empty name is reported by Mount.
func (r *Route) Action(name string) *Route {
	if strings.TrimSpace(name) == "" {
		r.group.api.errorf("%s: Action: empty name", r.where())
	}
	r.action = name
	return r
}

// Resource says which resource the route acts on: an entity of type typ
// (a Cedar identifier such as "Note") whose id is the value of path
// parameter param. Without it the resource is the route itself. A type that
// is not an identifier, or a param the path does not have, is reported by
// Mount.
func (r *Route) Resource(typ, param string) *Route {
	if !isIdentifier(typ) {
		r.group.api.errorf("%s: Resource: %q is not an entity type name (letters, digits, '_', not starting with a digit)", r.where(), typ)
	}
	if !slices.Contains(pathParams(r.path), param) {
		r.group.api.errorf("%s: Resource: the path has no parameter %q", r.where(), param)
	}
	r.resourceType, r.resourceParam = typ, param
	return r
}

// Group puts the route in the named resilience group: routes of one group
// share a circuit breaker and a bulkhead, so a failing or overloaded group
// cannot take the others down. By default a route's group is its API
// version's label ("v2").
func (r *Route) Group(name string) *Route {
	if strings.TrimSpace(name) == "" {
		r.group.api.errorf("%s: Group: empty name", r.where())
	}
	r.groupName = name
	return r
}

// GroupName returns the route's resilience group: the name given with
// Group, or the version label.
func (r *Route) GroupName() string {
	if r.groupName != "" {
		return r.groupName
	}
	return label(r.version)
}

// IsPublic reports whether Public was called.
func (r *Route) IsPublic() bool { return r.public }

// ActionName returns the name given with Action, or "".
func (r *Route) ActionName() string { return r.action }

// ResourceType returns the entity type given with Resource, or "".
func (r *Route) ResourceType() string { return r.resourceType }

// ResourceParam returns the path parameter given with Resource, or "".
func (r *Route) ResourceParam() string { return r.resourceParam }

// Routes returns every route of every version, in version order and, within
// a version, in the order they were added.
func (a *API) Routes() []*Route {
	var out []*Route
	for _, n := range slices.Sorted(maps.Keys(a.versions)) {
		out = append(out, a.versions[n].routes...)
	}
	return out
}

// where names the route in error messages.
func (r *Route) where() string {
	return label(r.version) + ": " + r.method + " " + r.path
}

// pathParams lists the ":name" parameters of an Echo path template.
func pathParams(path string) []string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			out = append(out, name)
		}
	}
	return out
}

// isIdentifier reports whether s is a Cedar identifier.
func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
