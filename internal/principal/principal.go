// Package principal defines the authenticated party of a request. It lives
// in internal so that both authz, which creates principals, and actors,
// whose HTTP adapter hands them to actors, can use the type without
// depending on each other; applications name it authz.Principal.
package principal

import (
	"slices"
	"time"
)

// Kind says what sort of party a Principal is.
type Kind string

// The kinds of principal.
const (
	// User is a person, authenticated through an identity provider.
	User Kind = "user"
	// Client is an application acting on its own behalf (OAuth client
	// credentials).
	Client Kind = "client"
	// Service is another service of the same system.
	Service Kind = "service"
)

// Principal is the authenticated party of a request, built from a verified
// JWT. It is immutable once in a request's context.
type Principal struct {
	// Subject is the token's sub claim.
	Subject string
	// Kind is user, client or service.
	Kind Kind
	// Roles are the principal's roles, from the configured roles claim.
	Roles []string
	// Scopes are the OAuth scopes granted, from the scope (space-separated)
	// or scp claim.
	Scopes []string
	// TokenID is the jti claim, "" when the token has none.
	TokenID string
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
	// Claims are all claims of the token, as decoded from JSON.
	Claims map[string]any
}

// HasRole reports whether p has role.
func (p *Principal) HasRole(role string) bool { return p != nil && slices.Contains(p.Roles, role) }

// HasScope reports whether p was granted scope.
func (p *Principal) HasScope(scope string) bool { return p != nil && slices.Contains(p.Scopes, scope) }
