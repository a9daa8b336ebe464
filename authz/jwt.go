package authz

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"

	"github.com/troupehq/troupe/internal/fielderr"
)

// Verifier checks JWT access tokens and turns them into Principals. It is
// safe for concurrent use. Close it to stop its JWKS refresh.
type Verifier struct {
	cfg     VerifierConfig
	parser  *jwt.Parser
	static  []*verificationKey // HMAC secret and PEM keys, fixed for the Verifier's life
	keys    atomic.Pointer[keySet]
	jwks    *jwksClient // nil without JWKS URLs
	cache   *tokenCache // nil when CacheSize is 0
	metrics *metrics    // nil without a MeterProvider
	now     func() time.Time
	logger  *slog.Logger

	stop     context.CancelFunc
	stopped  sync.WaitGroup
	stopOnce sync.Once
}

// NewVerifier checks cfg, loads every key and fetches every JWKS URL (bounded
// by ctx), then starts the background JWKS refresh. It fails closed: any
// unreadable key file, unfetchable JWKS, or inconsistent setting is an
// error, and the result lists every problem found, each naming its field as
// Validate does.
func NewVerifier(ctx context.Context, cfg VerifierConfig) (*Verifier, error) {
	derived := len(cfg.Algorithms) == 0
	if derived {
		cfg.Algorithms = cfg.derivedAlgorithms()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	v := &Verifier{cfg: cfg, now: cfg.Now, logger: cfg.Logger, metrics: newMetrics(cfg.MeterProvider)}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience...),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(cfg.Now),
	)
	var errs []error
	if len(cfg.HMACSecret) > 0 {
		v.static = append(v.static, &verificationKey{family: familyHMAC, key: slices.Clone(cfg.HMACSecret), source: "the HMAC secret"})
	}
	kids := make(map[string]string)
	for _, path := range cfg.PublicKeyFiles {
		k, err := loadPublicKeyFile(path)
		if err != nil {
			errs = append(errs, fielderr.New("PublicKeyFiles", "reading %s: %w", path, err))
			continue
		}
		if other, dup := kids[k.kid]; dup {
			errs = append(errs, fielderr.New("PublicKeyFiles", "%s and %s both have kid %q (the file name without extension)", other, path, k.kid))
			continue
		}
		kids[k.kid] = path
		v.static = append(v.static, k)
	}
	// A derived list names every asymmetric algorithm as soon as one key
	// file is given; each still verifies only with a key of its own type.
	errs = append(errs, checkKeyCoverage(cfg.Algorithms, v.static, len(cfg.JWKSURLs) > 0 || derived))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.CacheSize > 0 {
		v.cache = newTokenCache(cfg.CacheSize)
	}
	v.keys.Store(newKeySet(v.static))
	if len(cfg.JWKSURLs) > 0 {
		v.jwks = &jwksClient{
			client: cfg.HTTPClient, logger: cfg.Logger, now: cfg.Now,
			minRefetch: cfg.JWKSMinRefetch, changed: v.rebuildKeys,
		}
		for _, u := range cfg.JWKSURLs {
			v.jwks.sources = append(v.jwks.sources, &jwksSource{url: u})
		}
		if err := v.jwks.fetchAll(ctx); err != nil {
			return nil, err
		}
		runCtx, cancel := context.WithCancel(context.Background())
		v.stop = cancel
		v.stopped.Go(func() { v.jwks.run(runCtx, cfg.JWKSRefresh) })
	}
	return v, nil
}

// rebuildKeys installs a new key set after a JWKS fetch. When a key has
// gone, cached tokens are dropped: one may have been signed with it, and a
// key removed by the issuer must stop working at once, not at the tokens'
// expiry.
func (v *Verifier) rebuildKeys() {
	all := slices.Clone(v.static)
	for _, s := range v.jwks.sources {
		all = append(all, s.snapshot()...)
	}
	next := newKeySet(all)
	old := v.keys.Swap(next)
	if old == nil || v.cache == nil {
		return
	}
	for _, keys := range old.byFamily {
		for _, k := range keys {
			if !next.contains(k) {
				v.cache.purge()
				return
			}
		}
	}
}

// Close stops the background JWKS refresh. It is safe to call more than
// once; Verify keeps working with the last keys fetched.
func (v *Verifier) Close() {
	v.stopOnce.Do(func() {
		if v.stop != nil {
			v.stop()
		}
		v.stopped.Wait()
	})
}

// HealthCheck reports whether the last refresh of every JWKS URL succeeded,
// for a readiness check. A failing refresh does not stop verification (the
// last good keys stay in use) but means rotation is not being followed.
func (v *Verifier) HealthCheck(context.Context) error {
	if v.jwks == nil {
		return nil
	}
	var errs []error
	for _, s := range v.jwks.sources {
		errs = append(errs, s.health())
	}
	return errors.Join(errs...)
}

// Verify checks token and returns its principal. A refused token yields an
// error matching ErrInvalidToken (a *TokenError saying why); a revocation
// store that cannot answer yields one matching ErrRevocationUnavailable.
// The returned Principal is shared between requests carrying the same
// token and must not be modified.
//
// A verified token is cached, when the cache is on, until exp plus Leeway —
// exactly as long as verifying it again would succeed — so later calls skip
// the signature check. Revocation is checked on every call.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if len(token) > v.cfg.MaxTokenSize {
		return nil, invalid("token larger than max_token_size")
	}
	var sum [sha256.Size]byte
	if v.cache != nil {
		// Hashing the string's bytes in place saves a copy per request;
		// sha256 only reads them.
		sum = sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
		p, ok := v.cache.get(&sum, v.now())
		v.metrics.cacheLookup("token", ok)
		if ok {
			if err := v.checkRevoked(ctx, p); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	p, until, err := v.verifyToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := v.checkRevoked(ctx, p); err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(&sum, p, until, v.now())
	}
	return p, nil
}

// checkRevoked asks the revocation store about p's jti.
func (v *Verifier) checkRevoked(ctx context.Context, p *Principal) error {
	if v.cfg.Revocation == nil || p.TokenID == "" {
		return nil
	}
	revoked, err := v.cfg.Revocation.IsRevoked(ctx, p.TokenID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRevocationUnavailable, err)
	}
	if revoked {
		return invalid("revoked")
	}
	return nil
}

// verifyToken does the full check of an uncached token and returns its
// principal and the instant the verdict stops holding.
func (v *Verifier) verifyToken(ctx context.Context, token string) (*Principal, time.Time, error) {
	if err := checkCompact(token); err != nil {
		return nil, time.Time{}, err
	}
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.keyFor(ctx, t)
	})
	if err != nil {
		return nil, time.Time{}, v.classify(tok, claims, err)
	}
	return v.principal(claims)
}

// keyFor is the jwt.Keyfunc: it applies the header rules and picks the key.
// jku, x5u, jwk and x5c are never read, so a token cannot bring its own key.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, invalid("crit header present (no extensions are understood)")
	}
	alg := t.Method.Alg()
	kidValue, hasKID := t.Header["kid"]
	kid, isString := kidValue.(string)
	if hasKID && !isString {
		return nil, invalid("kid is not a string")
	}
	k, result := v.keys.Load().lookup(alg, kid, hasKID)
	if result == keyUnknownKID && v.jwks != nil {
		v.jwks.refetch(ctx)
		k, result = v.keys.Load().lookup(alg, kid, hasKID)
	}
	switch result {
	case keyFound:
		return k.key, nil
	case keyUnknownKID:
		return nil, invalid("unknown kid")
	case keyAmbiguous:
		return nil, invalid("no kid, and several keys fit " + alg)
	case keyWrongType:
		return nil, invalid("key type does not match alg " + alg)
	default:
		return nil, invalid("no key for alg " + alg)
	}
}

// classify maps a jwt library error to a TokenError.
func (v *Verifier) classify(tok *jwt.Token, claims jwt.MapClaims, err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		for _, name := range []string{"exp", "iss", "aud"} {
			if _, ok := claims[name]; !ok {
				return invalid("missing " + name)
			}
		}
		return invalid("empty iss or aud")
	}
	for _, c := range []struct {
		err    error
		reason string
	}{
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not valid yet (nbf)"},
		{jwt.ErrTokenUsedBeforeIssued, "issued in the future (iat)"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
		{jwt.ErrInvalidType, "claim of the wrong type"},
		{jwt.ErrTokenMalformed, "malformed"},
	} {
		if errors.Is(err, c.err) {
			return invalid(c.reason)
		}
	}
	if tok != nil && tok.Method != nil && !slices.Contains(v.cfg.Algorithms, tok.Method.Alg()) {
		return invalid("alg " + tok.Method.Alg() + " not allowed")
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid("bad signature")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalid("unverifiable (unknown alg)")
	}
	return invalid("invalid claims: " + err.Error())
}
