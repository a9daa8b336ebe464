package service

import "github.com/troupehq/troupe/versioning"

// routeKey identifies a route by method and path template. A struct key
// spares the per-request string concatenation a "METHOD /path" key would
// cost the stages that look routes up.
type routeKey struct{ method, path string }

// routeIndex is the API's routes by method and template, for the parts that
// need a route's settings (authentication, authorization, resilience
// groups).
type routeIndex map[routeKey]*versioning.Route

// hasRealtime reports whether a route is a WebSocket or SSE endpoint.
func (routes routeIndex) hasRealtime() bool {
	for _, r := range routes {
		if r.Transport() != "" {
			return true
		}
	}
	return false
}

func newRouteIndex(api *versioning.API) routeIndex {
	routes := routeIndex{}
	if api != nil {
		for _, r := range api.Routes() {
			routes[routeKey{r.Method(), r.Path()}] = r
		}
	}
	return routes
}
