package authz

// This is the one file of authz that imports Echo: the two stages in Echo's
// middleware dialect, over the Echo-free cores in authenticate.go and
// authorize.go, so that a move to another router (or Echo v5) touches only
// this file.

import (
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/chain"
)

// Authenticate returns the authentication stage of the request path. On a
// protected route it requires a valid bearer token (Authorization: Bearer,
// or else the configured cookie) and stores its Principal for FromContext;
// without one it returns a 401 *problem.Error carrying a WWW-Authenticate
// challenge, and with a revocation store that cannot answer a 503 with
// Retry-After — never a pass. Errors are rendered by the service's error
// handler. The client is told only that the token is missing or invalid;
// the reason is logged with the request's context.
//
// Public routes pass through anonymous, and any token they carry is
// ignored, not verified: a stale token in a browser must not break a page
// that needs none, and a public handler never sees a half-trusted
// principal.
func Authenticate(cfg AuthenticateConfig) echo.MiddlewareFunc {
	a := newAuthenticator(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			out, err := a.authenticate(r, chain.RuleRoute(c))
			if err != nil {
				return err
			}
			if out != r {
				c.SetRequest(out)
			}
			return next(c)
		}
	}
}

// Authorize returns the Cedar authorization stage of the request path. It
// runs after authentication and maps each request onto a Cedar request:
//
//   - principal: the authenticated Principal as PrincipalEntity builds it,
//     e.g. User::"alice" in Role::"admin";
//   - action: Action::"<rule.Action>", or by default
//     Action::"<METHOD> <route template>", e.g. Action::"DELETE /api/v2/notes/:id";
//   - resource: <rule.ResourceType>::"<path param rule.ResourceParam>" when
//     the rule names both, e.g. Note::"42" for DELETE /api/v2/notes/42;
//     otherwise Route::"<route template>", e.g. Route::"/api/v2/notes";
//   - context: see RequestContext.
//
// So with
//
//	permit (principal, action == Action::"DELETE /api/v2/notes/:id", resource is Note)
//	when { resource.owner == principal };
//	permit (principal in Role::"admin", action == Action::"DELETE /api/v2/notes/:id", resource);
//
// and an EntityProvider that loads Note::"42" with its owner, alice may delete
// her own note 42 and an admin may delete any note.
//
// Public routes pass untouched. Any other request is allowed only on an
// allow: a deny, an evaluation error, a failing EntityProvider, a missing
// principal or a rule naming a path parameter the route lacks all return a
// 403 *problem.Error with a fixed detail, rendered as problem+json by the
// service's error handler. The deciding policy IDs are logged with the
// request ID, never sent.
func Authorize(cfg AuthorizeConfig) echo.MiddlewareFunc {
	z := newAuthorizeStage(cfg)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := z.authorize(c.Request(), chain.RuleRoute(c), chain.ClientIP(c), c); err != nil {
				return err
			}
			return next(c)
		}
	}
}
