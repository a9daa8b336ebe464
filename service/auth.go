package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/fielderr"
)

// WithEntityProvider gives the authorizer the attributes of resources named
// by routes (Route.Resource), such as a note's owner, so policies can decide
// on them (attribute-based access control).
func WithEntityProvider(p authz.EntityProvider) Option {
	return func(o *options) { o.entities = p }
}

// authPart builds token verification and authorization from [auth]: the
// two stages of the request path, the policy watcher and their health
// checks. It fails closed: a key that cannot be loaded, a JWKS that cannot
// be fetched, a policy path that cannot be read or a policy that does not
// parse stops start-up with an error naming the key.
type authPart struct{}

// jwtKeys maps the VerifierConfig fields whose keys fielderr.Key cannot
// spell, and skips those the service fills itself ("-").
var jwtKeys = map[string]string{
	"JWKSURLs":   "auth.jwt.jwks_urls",
	"MissingJTI": "auth.revocation.missing_jti",
	"Revocation": "-",
}

func (authPart) check(c *checker) {
	a := c.cfg.Auth
	c.fields("auth.revocation", authz.MemoryRevocationConfig{MaxEntries: a.Revocation.MaxEntries}.Validate(), nil)
	c.fields("auth.cedar", authz.AuthorizerConfig{CacheSize: a.Cedar.CacheSize}.Validate(), map[string]string{"Policies": "-"})
	c.fields("auth.jwt", authz.AuthenticateConfig{Cookie: a.JWT.Cookie}.Validate(), map[string]string{"Verifier": "-"})
	err := verifierConfig(a).Validate()
	if !a.Enabled() {
		// Without a key source authentication is off, and what it requires
		// of one (a key, an issuer, an audience) does not apply; the other
		// settings are still checked, so a mistake shows before it bites.
		err = settingsOnly(err)
	}
	c.fields("auth.jwt", err, jwtKeys)
}

// settingsOnly keeps the problems of a VerifierConfig that do not depend on
// authentication being on.
func settingsOnly(err error) error {
	var kept []error
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if errors.As(e, &fe) && fe.Field != "Issuer" && fe.Field != "Audience" && fe.Field != "HMACSecret" {
			kept = append(kept, e)
		}
	}
	return errors.Join(kept...)
}

func (authPart) build(b *builder) {
	a := b.cfg.Auth
	if !a.Enabled() {
		if a.Cedar.Policies != "" || a.Revocation.Enabled {
			b.logger.Warn("authentication is off (no auth.jwt key source), so every route is public: auth.cedar.policies and auth.revocation are not enforced")
		}
		return
	}
	rules := routeRules(b.routes, append(assetRoutes(b.s.opts.assets), a.PublicPaths...))
	vc := verifierConfig(a)
	vc.Revocation, vc.MeterProvider, vc.Logger = revocationStore(b), b.tel.MeterProvider(), b.logger
	v, err := authz.NewVerifier(context.Background(), vc)
	if err != nil {
		b.fields("auth.jwt", err, jwtKeys) // a key that cannot be loaded or fetched
		return
	}
	b.s.revocation = vc.Revocation
	b.release("auth", v.Close)
	if len(a.JWT.JWKSURLs) > 0 {
		b.ready("authz:jwks", v.HealthCheck, true)
	}
	b.stages.Authenticate = authz.Authenticate(authz.AuthenticateConfig{
		Verifier: v, Rule: rules, Cookie: a.JWT.Cookie, Logger: b.logger, MeterProvider: b.tel.MeterProvider(),
	})
	if a.Cedar.Policies != "" {
		buildAuthorizer(b, rules)
	}
}

// buildAuthorizer loads the Cedar policies, fills the authorization stage
// and, with auth.cedar.reload_interval, watches the files.
func buildAuthorizer(b *builder, rules func(method, route string) authz.RouteRule) {
	c := b.cfg.Auth.Cedar
	store, err := authz.LoadPolicies(c.Policies)
	if err != nil {
		b.fail("auth.cedar.policies", err)
		return
	}
	authorizer := authz.NewAuthorizer(authz.AuthorizerConfig{
		Policies: store, Entities: b.s.opts.entities, CacheSize: c.CacheSize, Logger: b.logger, MeterProvider: b.tel.MeterProvider(),
	})
	b.authorizer = authorizer
	b.stages.Authorize = authz.Authorize(authz.AuthorizeConfig{Authorizer: authorizer, Rule: rules, Logger: b.logger})
	b.ready("authz:policies", func(context.Context) error { return store.LastError() }, true)
	if c.ReloadInterval > 0 {
		b.run(&policyWatcher{store: store, interval: c.ReloadInterval, logger: b.logger})
	}
}

// verifierConfig is [auth.jwt] (and the revocation policy) as the verifier
// takes it; the service adds the store, the meter provider and the logger.
func verifierConfig(a config.Auth) authz.VerifierConfig {
	j := a.JWT
	v := authz.DefaultVerifierConfig
	v.Algorithms, v.HMACSecret, v.PublicKeyFiles, v.JWKSURLs = j.Algorithms, []byte(j.HMACSecret), j.PublicKeyFiles, j.JWKSURLs
	v.JWKSRefresh, v.JWKSMinRefetch, v.Issuer, v.Audience = j.JWKSRefresh, j.JWKSMinRefetch, j.Issuer, j.Audience
	v.Leeway, v.RequiredClaims, v.MaxTokenSize, v.RolesClaim = j.Leeway, j.RequiredClaims, int(j.MaxTokenSize.Int64()), j.RolesClaim
	v.MissingJTI, v.CacheSize = authz.MissingJTIPolicy(a.Revocation.MissingJTI), j.CacheSize
	return v
}

// revocationStore is the store auth.revocation names, or nil when it is
// off: Redis (the shared client) or this process's memory.
func revocationStore(b *builder) authz.RevocationStore {
	r := b.cfg.Auth.Revocation
	switch {
	case !r.Enabled:
		return nil
	case r.Store == "redis" && b.redis != nil:
		return authz.NewRedisRevocationStore(b.redis, "troupe:"+b.s.name+":revoked:")
	}
	return authz.NewMemoryRevocationStore(authz.MemoryRevocationConfig{MaxEntries: r.MaxEntries})
}

// routeRules returns how each route is protected: the API's per-route
// settings, with auth.public_paths on top. A route the API does not know
// (a 404 or 405) is protected, so probing for routes needs a token too.
func routeRules(routes routeIndex, publicPaths []string) func(method, route string) authz.RouteRule {
	rules := map[routeKey]authz.RouteRule{}
	for key, r := range routes {
		rules[key] = authz.RouteRule{
			Public:        r.IsPublic(),
			Action:        r.ActionName(),
			ResourceType:  r.ResourceType(),
			ResourceParam: r.ResourceParam(),
		}
	}
	publicAll := map[string]bool{}
	for _, p := range publicPaths {
		if method, path, ok := strings.Cut(p, " "); ok {
			rule := rules[routeKey{method, path}]
			rule.Public = true
			rules[routeKey{method, path}] = rule
		} else {
			publicAll[p] = true
		}
	}
	return func(method, route string) authz.RouteRule {
		rule := rules[routeKey{method, route}]
		if publicAll[route] {
			rule.Public = true
		}
		return rule
	}
}

// policyWatcher reloads the policy files while the service runs; a reload
// that fails keeps the old policies and shows as a warning on readiness.
type policyWatcher struct {
	store    *authz.PolicyStore
	interval time.Duration
	logger   *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
}

func (w *policyWatcher) Name() string { return "policies" }

func (w *policyWatcher) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.store.Watch(ctx, w.interval, w.logger)
	}()
	return nil
}

func (w *policyWatcher) Stop(ctx context.Context) error {
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RevokeToken revokes the token whose jti is id until it expires at until
// (after which it is refused anyway): every later request carrying it gets
// 401, on every instance sharing the revocation store. It fails when
// auth.revocation is off.
func (s *Service) RevokeToken(ctx context.Context, id string, until time.Time) error {
	if s.revocation == nil {
		return errors.New("service: token revocation is off (auth.revocation.enabled)")
	}
	return s.revocation.Revoke(ctx, id, until)
}
