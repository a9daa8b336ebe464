package authz

import (
	"context"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// Principal is the authenticated party of a request, built from a verified
// JWT: Subject, Kind, Roles, Scopes, TokenID, ExpiresAt and the raw Claims,
// with the helpers HasRole and HasScope. It is immutable once in a request's
// context. (It is declared in an internal package so that actors can carry it
// in an HTTPRequest without importing authz.)
type Principal = principal.Principal

// Kind says what sort of party a Principal is. It decides the Cedar entity
// type of the principal (User or Client) and which rate limit applies.
type Kind = principal.Kind

// The kinds of principal.
const (
	// KindUser is a person, authenticated through an identity provider.
	KindUser = principal.User
	// KindClient is an application acting on its own behalf (OAuth client
	// credentials).
	KindClient = principal.Client
	// KindService is another service of the same system.
	KindService = principal.Service
)

type principalKey struct{}

// NewContext returns a copy of ctx carrying p, for code outside a request
// (tests, background work acting for someone). In a request the
// authentication stage stores the principal without copying the context.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request ctx belongs to, or nil
// when the request is anonymous (a public route, or authentication off).
func FromContext(ctx context.Context) *Principal {
	if info := reqinfo.FromContext(ctx); info != nil {
		if p, ok := info.Principal.(*Principal); ok {
			return p
		}
	}
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
