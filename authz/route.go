package authz

// RouteRule is how one route is authenticated and authorized. The service
// builds it from the versioning builder's per-route settings and the
// auth.public_paths key; the Authenticate and Authorize stages look it up
// by method and route template.
type RouteRule struct {
	// Public routes need no token and are not authorized.
	Public bool
	// Action is the Cedar action id; "" means "<METHOD> <route template>",
	// e.g. "DELETE /api/v2/notes/:id".
	Action string
	// ResourceType and ResourceParam name the Cedar resource: with both
	// set, the resource is ResourceType::"<value of path param
	// ResourceParam>" (Note::"42"); otherwise Route::"<route template>".
	ResourceType, ResourceParam string
}
