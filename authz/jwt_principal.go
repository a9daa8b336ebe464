package authz

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// principal builds the Principal of a token whose signature and registered
// claims have been checked, applying the remaining claim rules, and returns
// the instant until which the verdict holds (exp plus leeway).
//
// Kind: a kind claim of "client", "service" or "user" decides; otherwise a
// token whose sub equals its client_id or azp claim is a client (the OAuth
// client-credentials convention: the client is its own subject); otherwise
// it is a user. Scopes come from scope (space-separated) or else scp (an
// array, or a space-separated string).
func (v *Verifier) principal(claims jwt.MapClaims) (*Principal, time.Time, error) {
	for _, name := range v.cfg.RequiredClaims {
		if _, ok := claims[name]; !ok {
			return nil, time.Time{}, invalid("missing required claim " + name)
		}
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return nil, time.Time{}, invalid("missing sub")
	}
	jti, isString := claims["jti"].(string)
	if _, present := claims["jti"]; present && (!isString || jti == "") {
		return nil, time.Time{}, invalid("jti is not a non-empty string")
	}
	if jti == "" && v.cfg.Revocation != nil && v.cfg.MissingJTI != MissingJTIAllow {
		return nil, time.Time{}, invalid("missing jti (revocation is on)")
	}
	roles, ok := stringList(claims[v.cfg.RolesClaim])
	if !ok {
		return nil, time.Time{}, invalid("roles claim " + v.cfg.RolesClaim + " is not a string or an array of strings")
	}
	scopeClaim := "scope"
	if _, ok := claims[scopeClaim]; !ok {
		scopeClaim = "scp"
	}
	scopes, ok := stringList(claims[scopeClaim])
	if !ok {
		return nil, time.Time{}, invalid(scopeClaim + " claim is not a string or an array of strings")
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil { // the parser has checked it; this guards a library change
		return nil, time.Time{}, invalid("missing exp")
	}
	p := &Principal{
		Subject:   sub,
		Kind:      kindOf(claims, sub),
		Roles:     roles,
		Scopes:    scopes,
		TokenID:   jti,
		ExpiresAt: exp.Time,
		Claims:    claims,
	}
	return p, exp.Add(v.cfg.Leeway), nil
}

// kindOf applies the kind rules documented on principal.
func kindOf(claims jwt.MapClaims, sub string) Kind {
	switch k, _ := claims["kind"].(string); Kind(k) {
	case KindClient, KindService, KindUser:
		return Kind(k)
	}
	for _, name := range []string{"client_id", "azp"} {
		if id, _ := claims[name].(string); id == sub {
			return KindClient
		}
	}
	return KindUser
}

// stringList reads a claim that is absent, a space-separated string, or an
// array of strings.
func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return strings.Fields(v), true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}
