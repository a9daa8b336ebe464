package chain

import (
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// MatchedRoute returns the template of the route Echo matched for c, or ""
// when none did. Echo routes a request before its global middleware runs,
// so c.Path() is the template already. A 404 leaves it empty; a 405, and the
// OPTIONS answer Echo makes up for a path with routes for other methods,
// leave the template of the path but mark the context with the Allow list:
// no route for this method matched.
func MatchedRoute(c echo.Context) string {
	if c.Get(echo.ContextKeyHeaderAllow) != nil {
		return ""
	}
	return c.Path()
}

// Route returns the route template of c's request as every stage reads it:
// the one the request-ID stage recorded in the request's reqinfo.Info, or,
// for a stage used without that stage, MatchedRoute.
func Route(c echo.Context) string {
	if info := reqinfo.FromContext(c.Request().Context()); info != nil {
		return info.Route
	}
	return MatchedRoute(c)
}

// RuleRoute returns the route template the stages that decide per route
// (authentication, authorization, rate limits, breakers, bulkheads) look
// their rules up by: the one recorded in the request's reqinfo.Info, or
// else c.Path(), which on a 405 is the template of the path even though no
// route of this method matched — so a path listed public for every method
// answers a wrong method with 405, not 401. The rules are keyed by method
// too, so a 405 finds no per-method rule either way.
func RuleRoute(c echo.Context) string {
	if info := reqinfo.FromContext(c.Request().Context()); info != nil && info.Route != "" {
		return info.Route
	}
	return c.Path()
}

// ClientIP returns the client IP of c's request: the one the request-ID
// stage recorded, or Echo's RealIP (trusted-proxy aware as the service
// sets its IPExtractor).
func ClientIP(c echo.Context) string {
	if info := reqinfo.FromContext(c.Request().Context()); info != nil && info.ClientIP != "" {
		return info.ClientIP
	}
	return c.RealIP()
}
