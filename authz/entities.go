package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	cedar "github.com/cedar-policy/cedar-go"
)

// The Cedar entity types Troupe builds itself. An application's own
// resource types (Note, Folder) come from route rules and an EntityProvider.
const (
	// UserEntityType is the type of a KindUser principal: User::"<sub>".
	UserEntityType cedar.EntityType = "User"
	// ClientEntityType is the type of a KindClient or KindService
	// principal: Client::"<sub>".
	ClientEntityType cedar.EntityType = "Client"
	// RoleEntityType is the type of the principal's parents, one per role:
	// Role::"<role>".
	RoleEntityType cedar.EntityType = "Role"
	// ActionEntityType is the type of every action: Action::"<METHOD> <route>".
	ActionEntityType cedar.EntityType = "Action"
	// RouteEntityType is the resource of a route whose rule names no
	// resource: Route::"<route template>".
	RouteEntityType cedar.EntityType = "Route"
)

// EntityProvider supplies the entities Cedar needs beyond the principal:
// chiefly the resource of a request (Note::"42" with its owner), so policies
// can decide on attributes (ABAC). It is asked only for entities a policy
// actually reads — an attribute, a tag, or the ancestors for "in" — never
// for Role, Action or Route entities, which Troupe models as plain names
// without attributes or parents, and never for the principal.
//
// Return found == false for an entity that does not exist; a policy that
// reads its attributes then fails to evaluate, which denies. Return an error
// only when the answer is unknown (a database outage): the request is denied
// and the error logged. Entity is called on the request's goroutine and at
// most once per entity per decision.
type EntityProvider interface {
	Entity(ctx context.Context, uid cedar.EntityUID) (entity cedar.Entity, found bool, err error)
}

// EntityProviderFunc adapts a function to EntityProvider.
type EntityProviderFunc func(ctx context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error)

// Entity calls f.
func (f EntityProviderFunc) Entity(ctx context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error) {
	return f(ctx, uid)
}

// PrincipalUID returns the Cedar entity UID of p: User::"<sub>" for a user,
// Client::"<sub>" for a client or service.
func PrincipalUID(p *Principal) cedar.EntityUID {
	if p.Kind == KindUser {
		return cedar.NewEntityUID(UserEntityType, cedar.String(p.Subject))
	}
	return cedar.NewEntityUID(ClientEntityType, cedar.String(p.Subject))
}

// PrincipalEntity returns the Cedar entity of p: its UID, a Role parent per
// role, and as attributes every claim Cedar can represent — strings, bools,
// numbers (integers as Long, fractions as decimal) and arrays of strings (as
// sets) — plus kind ("user", "client" or "service") and scopes (a set),
// which win over claims of those names. Nested objects, mixed arrays and
// nulls are left out. For a token
//
//	{"sub": "alice", "roles": ["admin"], "email_verified": true, "org": {"id": 7}}
//
// the entity is User::"alice" in Role::"admin" with attributes
// {sub: "alice", roles: ["admin"], email_verified: true, kind: "user", scopes: []}.
func PrincipalEntity(p *Principal) cedar.Entity {
	attrs := make(cedar.RecordMap, len(p.Claims)+2)
	for name, v := range p.Claims {
		if cv, ok := claimValue(v); ok {
			attrs[cedar.String(name)] = cv
		}
	}
	attrs["kind"] = cedar.String(p.Kind)
	scopes := make([]cedar.Value, len(p.Scopes))
	for i, s := range p.Scopes {
		scopes[i] = cedar.String(s)
	}
	attrs["scopes"] = cedar.NewSet(scopes...)
	roles := make([]cedar.EntityUID, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = cedar.NewEntityUID(RoleEntityType, cedar.String(r))
	}
	return cedar.Entity{UID: PrincipalUID(p), Parents: cedar.NewEntityUIDSet(roles...), Attributes: cedar.NewRecord(attrs)}
}

// claimValue converts one decoded JSON claim to a Cedar value, reporting
// false for what Cedar attributes cannot hold faithfully. Decision cache
// keys mirror it (appendClaim); the two must agree on what is included.
func claimValue(v any) (cedar.Value, bool) {
	switch v := v.(type) {
	case string:
		return cedar.String(v), true
	case bool:
		return cedar.Boolean(v), true
	case float64:
		return numberValue(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return cedar.Long(n), true
		}
		f, err := v.Float64()
		if err != nil {
			return nil, false
		}
		return numberValue(f)
	case int:
		return cedar.Long(v), true
	case int64:
		return cedar.Long(v), true
	case []string:
		set := make([]cedar.Value, len(v))
		for i, s := range v {
			set[i] = cedar.String(s)
		}
		return cedar.NewSet(set...), true
	case []any:
		set := make([]cedar.Value, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			set[i] = cedar.String(s)
		}
		return cedar.NewSet(set...), true
	}
	return nil, false
}

// numberValue is a JSON number as a Cedar Long when it is a whole number in
// range, else a decimal (four places, Cedar's precision) when it fits.
func numberValue(f float64) (cedar.Value, bool) {
	if !representable(f) {
		return nil, false
	}
	if isLong(f) {
		return cedar.Long(int64(f)), true
	}
	d, err := cedar.NewDecimalFromFloat(f)
	if err != nil {
		return nil, false
	}
	return d, true
}

// representable reports whether numberValue converts f: a finite number
// that is a Long or within the range of a Cedar decimal.
func representable(f float64) bool {
	const decimalLimit = math.MaxInt64 / 1e4 // decimals hold four places in an int64
	return !math.IsNaN(f) && (isLong(f) || math.Abs(f) < decimalLimit)
}

// isLong reports whether f is a whole number that fits an int64.
func isLong(f float64) bool { return f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 }

// requestEntities is the cedar.EntityGetter for one decision: the principal
// from the token, everything else from the provider, fetched on first use
// and remembered for the rest of the decision.
type requestEntities struct {
	ctx       context.Context
	principal cedar.Entity
	provider  EntityProvider
	fetched   map[cedar.EntityUID]fetchedEntity
	err       error // the first provider error; the decision is then deny
}

type fetchedEntity struct {
	entity cedar.Entity
	found  bool
}

// Get implements cedar.EntityGetter.
func (e *requestEntities) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	if uid == e.principal.UID {
		return e.principal, true
	}
	switch uid.Type {
	case RoleEntityType, ActionEntityType, RouteEntityType:
		return cedar.Entity{}, false
	}
	if e.provider == nil || e.err != nil {
		return cedar.Entity{}, false
	}
	if f, ok := e.fetched[uid]; ok {
		return f.entity, f.found
	}
	entity, found, err := e.provider.Entity(e.ctx, uid)
	if err != nil {
		e.err = fmt.Errorf("authz: loading entity %s: %w", uid, err)
		return cedar.Entity{}, false
	}
	entity.UID = uid // the entity is the one asked for, whatever the provider filled in
	if e.fetched == nil {
		e.fetched = make(map[cedar.EntityUID]fetchedEntity, 1)
	}
	e.fetched[uid] = fetchedEntity{entity, found}
	return entity, found
}

// consulted reports whether the provider was asked for anything, which
// makes the decision depend on data the cache key does not capture.
func (e *requestEntities) consulted() bool { return len(e.fetched) > 0 || e.err != nil }
