package authz

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// forbiddenDetail is all a denied client learns: which policy decided is
// for the operator's log, not for someone probing the rules.
const forbiddenDetail = "You are not allowed to perform this action."

// AuthorizeConfig configures the Authorize middleware.
type AuthorizeConfig struct {
	// Authorizer decides. Required.
	Authorizer *Authorizer
	// Rule returns the rule of the route with this method and template (the
	// same lookup the Authenticate stage uses). Required.
	Rule func(method, route string) RouteRule
	// Logger receives one INFO line per denial with the deciding policy IDs;
	// nil means slog.Default().
	Logger *slog.Logger
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
	if cfg.Authorizer == nil || cfg.Rule == nil {
		panic("authz: Authorize needs an Authorizer and a Rule")
	}
	a := cfg.Authorizer
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			route := c.Path()
			rule := cfg.Rule(r.Method, route)
			if rule.Public {
				return next(c)
			}
			ctx := r.Context()
			start := time.Now()
			req := Request{
				Principal: FromContext(ctx),
				Action:    rule.Action,
				Resource:  cedar.NewEntityUID(RouteEntityType, cedar.String(route)),
				Context:   RequestContext{Time: start, Method: r.Method, Path: r.URL.Path},
			}
			if req.Action == "" {
				req.Action = r.Method + " " + route
			}
			if ip, err := netip.ParseAddr(c.RealIP()); err == nil {
				req.Context.IP = ip
			}
			if info := reqinfo.FromContext(ctx); info != nil {
				req.Context.APIVersion = info.APIVersion
			}
			var d Decision
			var err error
			if rule.ResourceType != "" && rule.ResourceParam != "" {
				id := c.Param(rule.ResourceParam)
				if id == "" {
					err = fmt.Errorf("authz: route %s %s has no path parameter %q for its %s resource",
						r.Method, route, rule.ResourceParam, rule.ResourceType)
				}
				req.Resource = cedar.NewEntityUID(cedar.EntityType(rule.ResourceType), cedar.String(id))
			}
			if err == nil {
				d, err = a.Authorize(ctx, req)
				if a.cache != nil {
					a.metrics.cacheLookup(ctx, "decision", d.Cached)
				}
			}
			allowed := err == nil && d.Allowed
			a.metrics.decision(ctx, route, allowed, time.Since(start))
			if allowed {
				return next(c)
			}
			return denied(c, logger, &req, d, err)
		}
	}
}

// denied logs a denial with what decided it and returns the 403 to render.
func denied(c echo.Context, logger *slog.Logger, req *Request, d Decision, err error) error {
	principal := "none"
	if req.Principal != nil {
		principal = PrincipalUID(req.Principal).String()
	}
	attrs := []slog.Attr{
		slog.String("principal", principal), slog.String("action", req.Action),
		slog.String("resource", req.Resource.String()), slog.Any("policies", d.Reasons),
	}
	if len(d.Errors) > 0 {
		attrs = append(attrs, slog.Any("errors", d.Errors))
	}
	if err != nil {
		attrs = append(attrs, slog.Any("error", err))
	}
	logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "authz: request denied", attrs...)
	pe := problem.NewError(http.StatusForbidden, forbiddenDetail)
	pe.Err = fmt.Errorf("authz: %s may not %s on %s (policies %v)", principal, req.Action, req.Resource, d.Reasons)
	if err != nil {
		pe.Err = fmt.Errorf("%w: %w", pe.Err, err)
	}
	return pe
}
