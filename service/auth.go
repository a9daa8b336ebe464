package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/internal/fielderr"
)

// WithEntityProvider gives the authorizer the attributes of resources named
// by routes (Route.Resource), such as a note's owner, so policies can decide
// on them (attribute-based access control).
func WithEntityProvider(p authz.EntityProvider) Option {
	return func(o *options) { o.entities = p }
}

// authState is what the auth keys built: nil parts are off.
type authState struct {
	verifier     *authz.Verifier
	revocation   authz.RevocationStore
	policies     *authz.PolicyStore
	authenticate echo.MiddlewareFunc
	authorize    echo.MiddlewareFunc
}

// buildAuth builds token verification and authorization from [auth]: the
// two stages of the request path, the policy watcher and their health
// checks. It fails closed: a key that cannot be loaded, a JWKS
// that cannot be fetched, a policy path that cannot be read or a policy that
// does not parse stops start-up with an error naming the key.
func (s *Service) buildAuth() error {
	a := s.cfg.Auth
	if !a.Enabled() {
		if a.Cedar.Policies != "" || a.Revocation.Enabled {
			s.logger.Warn("authentication is off (no auth.jwt key source), so every route is public: auth.cedar.policies and auth.revocation are not enforced")
		}
		return nil
	}
	var errs []error
	keyErr := func(key string, err error) {
		errs = append(errs, fmt.Errorf("%s (from %s): %w", key, s.effective.Source(key), err))
	}
	rules := s.routeRules()
	mp := s.tel.MeterProvider()

	var revocation authz.RevocationStore
	if r := a.Revocation; r.Enabled {
		switch r.Store {
		case "redis":
			client, err := s.redisClient()
			if err != nil {
				keyErr("redis.url", err)
			} else {
				revocation = authz.NewRedisRevocationStore(client, "troupe:"+s.name+":revoked:")
			}
		default:
			revocation = authz.NewMemoryRevocationStore(authz.MemoryRevocationConfig{MaxEntries: r.MaxEntries})
		}
	}
	j := a.JWT
	v, err := authz.NewVerifier(context.Background(), authz.VerifierConfig{
		Algorithms:     j.Algorithms,
		HMACSecret:     []byte(j.HMACSecret),
		PublicKeyFiles: j.PublicKeyFiles,
		JWKSURLs:       j.JWKSURLs,
		JWKSRefresh:    j.JWKSRefresh,
		JWKSMinRefetch: j.JWKSMinRefetch,
		Issuer:         j.Issuer,
		Audience:       j.Audience,
		Leeway:         j.Leeway,
		RequiredClaims: j.RequiredClaims,
		MaxTokenSize:   int(j.MaxTokenSize.Int64()),
		RolesClaim:     j.RolesClaim,
		Revocation:     revocation,
		MissingJTI:     authz.MissingJTIPolicy(a.Revocation.MissingJTI),
		CacheSize:      j.CacheSize,
		MeterProvider:  mp,
		Logger:         s.logger,
	})
	if err != nil {
		for _, e := range fielderr.All(err) {
			var fe *fielderr.Error
			if errors.As(e, &fe) {
				keyErr(jwtKey(fe.Field), fe.Err)
			} else {
				errs = append(errs, e)
			}
		}
	} else {
		s.auth.verifier, s.auth.revocation = v, revocation
		if len(j.JWKSURLs) > 0 {
			s.opts.readiness = append(s.opts.readiness, &check{name: "authz:jwks", fn: v.HealthCheck, optional: true})
		}
		s.auth.authenticate = authz.Authenticate(authz.AuthenticateConfig{
			Verifier: v, Rule: rules, Cookie: j.Cookie, Logger: s.logger, MeterProvider: mp,
		})
	}

	if path := a.Cedar.Policies; path != "" {
		store, err := authz.LoadPolicies(path)
		if err != nil {
			keyErr("auth.cedar.policies", err)
		} else {
			s.auth.policies = store
			authorizer := authz.NewAuthorizer(authz.AuthorizerConfig{
				Policies: store, Entities: s.opts.entities, CacheSize: a.Cedar.CacheSize, Logger: s.logger, MeterProvider: mp,
			})
			s.auth.authorize = authz.Authorize(authz.AuthorizeConfig{Authorizer: authorizer, Rule: rules, Logger: s.logger})
			s.opts.readiness = append(s.opts.readiness, &check{name: "authz:policies", fn: func(context.Context) error { return store.LastError() }, optional: true})
			if a.Cedar.ReloadInterval > 0 {
				s.opts.subsystems = append(s.opts.subsystems, &policyWatcher{store: store, interval: a.Cedar.ReloadInterval, logger: s.logger})
			}
		}
	}
	return errors.Join(errs...)
}

// jwtKey is the key of a VerifierConfig field: its snake_case under
// auth.jwt, but for the two fielderr.Key cannot spell.
func jwtKey(field string) string {
	switch field {
	case "JWKSURLs":
		return "auth.jwt.jwks_urls"
	case "MissingJTI":
		return "auth.revocation.missing_jti"
	}
	return fielderr.Key("auth.jwt", field)
}

// routeRules returns how each route is protected: the API's per-route
// settings, with auth.public_paths on top. A route the API does not know
// (a 404 or 405) is protected, so probing for routes needs a token too.
func (s *Service) routeRules() func(method, route string) authz.RouteRule {
	rules := map[routeKey]authz.RouteRule{}
	for key, r := range s.apiRoutes() {
		rules[key] = authz.RouteRule{
			Public:        r.IsPublic(),
			Action:        r.ActionName(),
			ResourceType:  r.ResourceType(),
			ResourceParam: r.ResourceParam(),
		}
	}
	publicAll := map[string]bool{}
	for _, p := range s.cfg.Auth.PublicPaths {
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

// release frees what New set up — the component runtime, providers, JWKS
// refresh, the Redis client — when the service will not run or has stopped.
func (s *Service) release() {
	s.closeComponents(context.Background())
	s.flushTelemetry()
	s.closeStores()
}

// closeStores stops the JWKS refresh and the Redis client.
func (s *Service) closeStores() {
	if s.auth.verifier != nil {
		s.auth.verifier.Close()
	}
	s.closeRedis()
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
	if s.auth.revocation == nil {
		return errors.New("service: token revocation is off (auth.revocation.enabled)")
	}
	return s.auth.revocation.Revoke(ctx, id, until)
}
