package authz

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
)

const (
	deleteNote = "DELETE /api/v2/notes/:id"
	readNote   = "GET /api/v2/notes/:id"
)

func note(id string) cedar.EntityUID { return cedar.NewEntityUID("Note", cedar.String(id)) }

func user(sub string, roles ...string) *Principal {
	return &Principal{Subject: sub, Kind: KindUser, Roles: roles, Claims: map[string]any{"sub": sub}}
}

// notesStore loads testdata/cedar/notes.
func notesStore(t testing.TB) *PolicyStore {
	t.Helper()
	s, err := LoadPolicies("testdata/cedar/notes")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// owners is an EntityProvider of notes by owner; it counts its calls.
type owners struct {
	owner map[string]string // note id → owner sub
	err   error
	calls int
}

func (o *owners) Entity(_ context.Context, uid cedar.EntityUID) (cedar.Entity, bool, error) {
	o.calls++
	if o.err != nil {
		return cedar.Entity{}, false, o.err
	}
	sub, ok := o.owner[string(uid.ID)]
	if uid.Type != "Note" || !ok {
		return cedar.Entity{}, false, nil
	}
	return cedar.Entity{Attributes: cedar.NewRecord(cedar.RecordMap{
		"owner": cedar.NewEntityUID(UserEntityType, cedar.String(sub)),
	})}, true, nil
}

func TestAuthorizeNotes(t *testing.T) {
	provider := &owners{owner: map[string]string{"1": "alice", "2": "bob"}}
	a := NewAuthorizer(AuthorizerConfig{Policies: notesStore(t), Entities: provider})
	suspended := user("alice")
	suspended.Claims["suspended"] = true

	tests := []struct {
		name     string
		p        *Principal
		action   string
		resource cedar.EntityUID
		allowed  bool
		reasons  []string
	}{
		{"anyone reads", user("carol"), readNote, note("1"), true, []string{"notes-read-create"}},
		{"owner deletes own note", user("alice"), deleteNote, note("1"), true, []string{"notes-delete-own"}},
		{"non-owner may not delete", user("alice"), deleteNote, note("2"), false, nil},
		{"unknown note is not owned", user("alice"), deleteNote, note("404"), false, nil},
		{"role parent: admin deletes any note", user("carol", "editor", "admin"), deleteNote, note("2"), true, []string{"notes-delete-admin"}},
		{"client with admin role", &Principal{Subject: "ci", Kind: KindClient, Roles: []string{"admin"}}, deleteNote, note("2"), true, []string{"notes-delete-admin"}},
		{"forbid beats permit", suspended, deleteNote, note("1"), false, []string{"suspended"}},
		{"unlisted action", user("alice"), "PUT /api/v2/notes/:id", note("1"), false, nil},
		{"no principal", nil, readNote, note("1"), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := a.Authorize(context.Background(), Request{Principal: tt.p, Action: tt.action, Resource: tt.resource})
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			slices.Sort(d.Reasons)
			if d.Allowed != tt.allowed || !slices.Equal(d.Reasons, tt.reasons) {
				t.Errorf("decision = %+v, want allowed %v by %q", d, tt.allowed, tt.reasons)
			}
		})
	}
}

// storeOf loads policies from text.
func storeOf(t testing.TB, policies string) *PolicyStore {
	t.Helper()
	s, err := LoadPolicies(writeFiles(t.(*testing.T), map[string]string{"p.cedar": policies}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEvaluationErrorDenies(t *testing.T) {
	// A forbid that cannot be evaluated (no such attribute) must not let the
	// permit through, though Cedar itself would skip the failed policy.
	a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, `
		@id("all") permit (principal, action, resource);
		@id("broken") forbid (principal, action, resource) when { principal.department == "sales" };`)})
	d, err := a.Authorize(context.Background(), Request{Principal: user("alice"), Action: readNote, Resource: note("1")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "broken") {
		t.Errorf("decision = %+v, want a deny naming the broken policy", d)
	}
}

func TestEntityProviderErrorDenies(t *testing.T) {
	outage := errors.New("database down")
	provider := &owners{err: outage}
	a := NewAuthorizer(AuthorizerConfig{Policies: notesStore(t), Entities: provider})
	// The admin permit alone would allow; the failed lookup for the owner
	// policy still denies, because the decision is not known for sure.
	d, err := a.Authorize(context.Background(), Request{Principal: user("carol", "admin"), Action: deleteNote, Resource: note("1")})
	if !errors.Is(err, outage) || d.Allowed || len(d.Errors) != 1 {
		t.Errorf("decision = %+v, err = %v; want a deny wrapping the outage", d, err)
	}
}

func TestProviderCalledOncePerEntity(t *testing.T) {
	provider := &owners{owner: map[string]string{"1": "alice"}}
	a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, `
		permit (principal, action, resource) when { resource.owner == principal };
		permit (principal, action, resource) when { resource has owner && resource.owner == principal };`),
		Entities: provider})
	if d, _ := a.Authorize(context.Background(), Request{Principal: user("alice"), Action: readNote, Resource: note("1")}); !d.Allowed {
		t.Fatalf("decision = %+v", d)
	}
	if provider.calls != 1 {
		t.Errorf("provider called %d times for one entity in one decision", provider.calls)
	}
}

func TestContextRecord(t *testing.T) {
	a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, `
		permit (principal, action, resource) when {
			context.ip.isInRange(ip("10.0.0.0/8")) && context.time == 1767225600 &&
			context.api_version == "v2" && context.method == "GET" && context.path == "/api/v2/notes/1" };`)})
	rc := RequestContext{
		IP: netip.MustParseAddr("10.1.2.3"), Time: time.Unix(1767225600, 5e8),
		APIVersion: "v2", Method: "GET", Path: "/api/v2/notes/1",
	}
	req := Request{Principal: user("alice"), Action: readNote, Resource: note("1"), Context: rc}
	if d, _ := a.Authorize(context.Background(), req); !d.Allowed {
		t.Errorf("decision = %+v, want allowed", d)
	}
	req.Context.IP = netip.MustParseAddr("192.0.2.1")
	if d, _ := a.Authorize(context.Background(), req); d.Allowed {
		t.Errorf("outside the range: decision = %+v", d)
	}
	req.Context.IP = netip.Addr{}
	if d, _ := a.Authorize(context.Background(), req); d.Allowed || len(d.Errors) == 0 {
		t.Errorf("no IP: decision = %+v, want an evaluation error", d)
	}
}

func TestPrincipalAttributes(t *testing.T) {
	a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, `
		permit (principal is User, action, resource) when {
			principal.kind == "user" && principal.email_verified && principal.level == 3 &&
			principal.ratio == decimal("0.5") && principal.groups.contains("ops") &&
			principal.scopes.contains("notes:write") && !(principal has org) && !(principal has mixed) };`)})
	p := &Principal{Subject: "alice", Kind: KindUser, Scopes: []string{"notes:write"}, Claims: map[string]any{
		"email_verified": true, "level": float64(3), "ratio": 0.5, "groups": []any{"ops", "dev"},
		"org": map[string]any{"id": 7}, "mixed": []any{"a", 1.0},
		"kind": "forged", // Troupe's own attribute wins
	}}
	if d, _ := a.Authorize(context.Background(), Request{Principal: p, Action: readNote, Resource: note("1")}); !d.Allowed {
		t.Errorf("decision = %+v, want allowed", d)
	}
}

func TestClaimValueAndKeyAgree(t *testing.T) {
	// A claim in the entity must be in the cache key too, or two principals
	// differing only in it would share a decision.
	values := []any{
		"s", true, false, 1.0, 1.5, -3.0, 1e300, number("12"), number("1.25"), number("x"),
		1, int64(2), []string{"a"}, []any{"a", "b"}, []any{"a", 1.0}, []any{},
		map[string]any{"a": 1}, nil, float32(1),
	}
	for _, v := range values {
		_, inEntity := claimValue(v)
		_, inKey := appendClaim(nil, v)
		if inEntity != inKey {
			t.Errorf("%#v: in entity %v, in key %v", v, inEntity, inKey)
		}
	}
}

func number(s string) any { return json.Number(s) }
