package service

import "github.com/troupehq/troupe/versioning"

// routeKey identifies a route by method and path template. A struct key
// spares the per-request string concatenation a "METHOD /path" key would
// cost the stages that look routes up.
type routeKey struct{ method, path string }

// apiRoutes indexes the API's routes, for the stages that need a route's
// settings (authentication, authorization, resilience groups).
func (s *Service) apiRoutes() map[routeKey]*versioning.Route {
	routes := map[routeKey]*versioning.Route{}
	if s.opts.api != nil {
		for _, r := range s.opts.api.Routes() {
			routes[routeKey{r.Method(), r.Path()}] = r
		}
	}
	return routes
}
