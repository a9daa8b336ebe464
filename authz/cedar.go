package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Request is one authorization question: may Principal perform Action on
// Resource in Context? The Authorize middleware builds it from the route;
// code outside HTTP (an actor acting for a user) may build its own.
type Request struct {
	// Principal is who asks. A nil principal is always denied.
	Principal *Principal
	// Action is the id of the Cedar action, Action::"<Action>"; by default
	// "<METHOD> <route template>", e.g. "DELETE /api/v2/notes/:id".
	Action string
	// Resource is what is acted on: Note::"42", or Route::"<template>".
	Resource cedar.EntityUID
	// Context is the rest of what policies may look at.
	Context RequestContext
}

// RequestContext becomes the Cedar context record:
//
//	{ ip: ip("203.0.113.9"), time: 1767225600, api_version: "v2",
//	  method: "DELETE", path: "/api/v2/notes/42" }
//
// so a policy can say `context.ip.isInRange(ip("10.0.0.0/8"))` or
// `context.time < 1798761600`. An invalid IP is left out of the record,
// which makes a policy reading context.ip fail to evaluate and deny.
type RequestContext struct {
	// IP is the client address, trusted-proxy aware (Echo's RealIP as the
	// service configures it).
	IP netip.Addr
	// Time is when the request arrived; policies see Unix seconds (a Long).
	Time time.Time
	// APIVersion is the version label of the route ("v2"), or "".
	APIVersion string
	// Method is the HTTP method.
	Method string
	// Path is the raw request path: client input, fine to match on but
	// never to trust as proof of anything the route template does not say.
	Path string
}

// Decision is the outcome of one authorization request.
type Decision struct {
	// Allowed is true only when some permit policy matched, no forbid
	// policy matched and no policy failed to evaluate.
	Allowed bool
	// Reasons are the IDs of the policies Cedar's answer rests on: the
	// matching forbids of a deny, or the matching permits of an allow;
	// empty when no policy matched. For logs only: never sent to clients.
	Reasons []string
	// Errors describe policies that failed to evaluate (a missing attribute,
	// a type mismatch) or entities that could not be loaded. Any error
	// denies, stricter than Cedar's own rule of skipping a failed policy: a
	// forbid that cannot be evaluated must not quietly stop forbidding.
	Errors []string
	// Cached is true when the decision came from the decision cache. A
	// cached decision shares its slices with the cache: read, don't modify.
	Cached bool
}

// AuthorizerConfig configures NewAuthorizer.
type AuthorizerConfig struct {
	// Policies is the policy store to evaluate. Required.
	Policies *PolicyStore
	// Entities loads resource entities for attribute-based policies;
	// nil means policies see no entity but the principal.
	Entities EntityProvider
	// CacheSize bounds the decision cache (auth.cedar.cache_size); 0 turns
	// it off. DefaultAuthorizerConfig has DefaultDecisionCacheSize.
	CacheSize int
	// Logger receives evaluation and entity errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// MeterProvider makes the metrics of the decisions the Authorize stage
	// makes, by route, and of decision-cache lookups; nil records nothing.
	MeterProvider metric.MeterProvider
}

// Authorizer answers authorization requests against a PolicyStore's current
// policies. It is safe for concurrent use.
//
// Decisions are cached when they can be reused exactly: the key covers the
// policy generation, the whole principal (subject, kind, roles, scopes and
// claims), the action, the resource, and those context attributes some
// policy reads. Two kinds of decision are never cached: those made while
// the policies read context.time (the answer depends on the clock), and
// those for which the EntityProvider was consulted (a note whose owner
// changes must not keep a stale allow; the provider's data has no version
// the cache could key on).
type Authorizer struct {
	policies *PolicyStore
	entities EntityProvider
	cache    *decisionCache
	logger   *slog.Logger
	metrics  *metrics
}

// DefaultAuthorizerConfig holds the values a service's auth.cedar keys
// default to; copy it and set Policies. A zero AuthorizerConfig has no
// decision cache.
var DefaultAuthorizerConfig = AuthorizerConfig{CacheSize: DefaultDecisionCacheSize}

// Validate reports every problem with cfg, each as a *fielderr.Error naming
// its field (joined with errors.Join), or nil.
func (cfg AuthorizerConfig) Validate() error {
	var errs []error
	if cfg.Policies == nil {
		errs = append(errs, fielderr.New("Policies", "required"))
	}
	if cfg.CacheSize < 0 {
		errs = append(errs, fielderr.New("CacheSize", "must not be negative"))
	}
	return errors.Join(errs...)
}

// NewAuthorizer returns an Authorizer for cfg. It panics when cfg.Validate
// fails: an authorizer without policies is a wiring mistake, and failing
// loudly at start-up beats denying every request in production.
func NewAuthorizer(cfg AuthorizerConfig) *Authorizer {
	if err := cfg.Validate(); err != nil {
		panic("authz: NewAuthorizer: " + err.Error())
	}
	a := &Authorizer{policies: cfg.Policies, entities: cfg.Entities, logger: cfg.Logger, metrics: newMetrics(cfg.MeterProvider)}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if cfg.CacheSize > 0 {
		a.cache = newDecisionCache(cfg.CacheSize)
		cfg.Policies.OnReload(func(uint64) { a.cache.purge() })
	}
	return a
}

// Authorize decides req against the current policies. A non-nil error means
// the decision could not be made — an EntityProvider failed — and comes
// with a deny; a Cedar evaluation error is a deny with Decision.Errors set,
// not an error. There is no way to turn a deny into an allow.
func (a *Authorizer) Authorize(ctx context.Context, req Request) (Decision, error) {
	if req.Principal == nil {
		return Decision{Errors: []string{"no principal"}}, nil
	}
	snap := a.policies.snapshot()
	cacheable := a.cache != nil && snap.context&usesTime == 0
	var keyBuf [512]byte
	var key []byte
	if cacheable {
		key = appendDecisionKey(keyBuf[:0], snap.generation, &req, snap.context)
		if d, ok := a.cache.get(key); ok {
			d.Cached = true
			return d, nil
		}
	}

	entities := &requestEntities{ctx: ctx, principal: PrincipalEntity(req.Principal), provider: a.entities}
	cedarReq := cedar.Request{
		Principal: entities.principal.UID,
		Action:    cedar.NewEntityUID(ActionEntityType, cedar.String(req.Action)),
		Resource:  req.Resource,
		Context:   contextRecord(&req.Context),
	}
	verdict, diag := cedar.Authorize(snap.set, entities, cedarReq)
	if entities.err != nil {
		a.logger.LogAttrs(ctx, slog.LevelError, "authz: entity provider failed; denying",
			slog.String("action", req.Action), slog.String("resource", req.Resource.String()), slog.Any("error", entities.err))
		return Decision{Errors: []string{entities.err.Error()}}, entities.err
	}
	d := Decision{Allowed: verdict == cedar.Allow && len(diag.Errors) == 0}
	for _, r := range diag.Reasons {
		d.Reasons = append(d.Reasons, string(r.PolicyID))
	}
	for _, e := range diag.Errors {
		d.Errors = append(d.Errors, e.String())
	}
	if len(d.Errors) > 0 {
		a.logger.LogAttrs(ctx, slog.LevelWarn, "authz: policy evaluation failed; denying",
			slog.String("principal", cedarReq.Principal.String()), slog.String("action", req.Action),
			slog.String("resource", req.Resource.String()), slog.Any("errors", d.Errors))
	}
	if cacheable && !entities.consulted() {
		a.cache.put(key, d)
	}
	return d, nil
}

// contextRecord builds the Cedar context from rc.
func contextRecord(rc *RequestContext) cedar.Record {
	m := cedar.RecordMap{
		"time":        cedar.Long(rc.Time.Unix()),
		"api_version": cedar.String(rc.APIVersion),
		"method":      cedar.String(rc.Method),
		"path":        cedar.String(rc.Path),
	}
	if ip := rc.IP.WithZone(""); ip.IsValid() {
		m["ip"] = cedar.IPAddr(netip.PrefixFrom(ip, ip.BitLen()))
	}
	return cedar.NewRecord(m)
}
