package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/troupehq/troupe/internal/fielderr"
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

// pathParams gives the values of the current route's path parameters by
// name. echo.Context is one, so the Echo adapter passes itself without an
// allocation.
type pathParams interface {
	Param(name string) string
}

// authorizeStage is the Echo-free core of the Authorize stage.
type authorizeStage struct {
	authorizer *Authorizer
	rule       func(method, route string) RouteRule
	logger     *slog.Logger
}

// Validate reports every problem with cfg, each as a *fielderr.Error naming
// its field (joined with errors.Join), or nil.
func (cfg AuthorizeConfig) Validate() error {
	var errs []error
	if cfg.Authorizer == nil {
		errs = append(errs, fielderr.New("Authorizer", "required"))
	}
	if cfg.Rule == nil {
		errs = append(errs, fielderr.New("Rule", "required"))
	}
	return errors.Join(errs...)
}

// newAuthorizeStage builds the core from cfg, filling its defaults. It
// panics when cfg.Validate fails: a wiring mistake, found at start-up.
func newAuthorizeStage(cfg AuthorizeConfig) *authorizeStage {
	if err := cfg.Validate(); err != nil {
		panic("authz: Authorize: " + err.Error())
	}
	z := &authorizeStage{authorizer: cfg.Authorizer, rule: cfg.Rule, logger: cfg.Logger}
	if z.logger == nil {
		z.logger = slog.Default()
	}
	return z
}

// authorize decides r, a request to the route with template route from
// clientIP, and returns nil to let it through or the 403 *problem.Error to
// answer with.
func (z *authorizeStage) authorize(r *http.Request, route, clientIP string, params pathParams) error {
	rule := z.rule(r.Method, route)
	if rule.Public {
		return nil
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
	if ip, err := netip.ParseAddr(clientIP); err == nil {
		req.Context.IP = ip
	}
	if info := reqinfo.FromContext(ctx); info != nil {
		req.Context.APIVersion = info.APIVersion
	}
	var d Decision
	var err error
	if rule.ResourceType != "" && rule.ResourceParam != "" {
		id := params.Param(rule.ResourceParam)
		if id == "" {
			err = fmt.Errorf("authz: route %s %s has no path parameter %q for its %s resource",
				r.Method, route, rule.ResourceParam, rule.ResourceType)
		}
		req.Resource = cedar.NewEntityUID(cedar.EntityType(rule.ResourceType), cedar.String(id))
	}
	a := z.authorizer
	if err == nil {
		d, err = a.Authorize(ctx, req)
		if a.cache != nil {
			a.metrics.cacheLookup("decision", d.Cached)
		}
	}
	allowed := err == nil && d.Allowed
	a.metrics.decision(ctx, route, allowed, time.Since(start))
	if allowed {
		return nil
	}
	return z.denied(ctx, &req, d, err)
}

// denied logs a denial with what decided it and returns the 403 to render.
func (z *authorizeStage) denied(ctx context.Context, req *Request, d Decision, err error) error {
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
	z.logger.LogAttrs(ctx, slog.LevelInfo, "authz: request denied", attrs...)
	pe := problem.NewError(http.StatusForbidden, forbiddenDetail)
	pe.Err = fmt.Errorf("authz: %s may not %s on %s (policies %v)", principal, req.Action, req.Resource, d.Reasons)
	if err != nil {
		pe.Err = fmt.Errorf("%w: %w", pe.Err, err)
	}
	return pe
}
