package authz

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
)

// benchPolicies generates n policies in the shape a service accumulates:
// per-route role permits reading the context, and forbids on claims.
func benchPolicies(n int) string {
	var b strings.Builder
	for i := range n {
		if i%5 == 0 {
			fmt.Fprintf(&b, "@id(\"forbid-%d\")\nforbid (principal, action == Action::\"GET /r%d\", resource)\nwhen { principal has suspended && principal.suspended };\n", i, i)
			continue
		}
		fmt.Fprintf(&b, "@id(\"permit-%d\")\npermit (principal in Role::\"role%d\", action == Action::\"GET /r%d\", resource == Route::\"/r%d\")\nwhen { context.method == \"GET\" && context.api_version == \"v2\" };\n", i, i%7, i, i)
	}
	return b.String()
}

// benchPrincipal has the claims of a typical access token.
func benchPrincipal() *Principal {
	return &Principal{
		Subject: "user-1234", Kind: KindUser, Roles: []string{"role3", "viewer"}, Scopes: []string{"notes:read"},
		Claims: map[string]any{
			"sub": "user-1234", "iss": "https://id.example.com", "aud": []any{"api"}, "exp": 1.7672256e9,
			"iat": 1.7672220e9, "jti": "0f8fad5b-d9cb-469f-a165-70867728950e", "roles": []any{"role3", "viewer"},
			"email": "user@example.com", "email_verified": true,
		},
	}
}

func BenchmarkAuthorize(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.cedar"), []byte(benchPolicies(50)), 0o644); err != nil {
		b.Fatal(err)
	}
	store, err := LoadPolicies(dir)
	if err != nil {
		b.Fatal(err)
	}
	if store.Len() != 50 {
		b.Fatalf("%d policies", store.Len())
	}
	req := Request{
		Principal: benchPrincipal(), Action: "GET /r3", Resource: routeUID("/r3"),
		Context: RequestContext{
			IP: netip.MustParseAddr("203.0.113.9"), Time: time.Unix(1767225600, 0),
			APIVersion: "v2", Method: "GET", Path: "/r3",
		},
	}
	for _, bc := range []struct {
		name string
		size int
	}{{"uncached", 0}, {"cached", DefaultDecisionCacheSize}} {
		b.Run(bc.name, func(b *testing.B) {
			a := NewAuthorizer(AuthorizerConfig{Policies: store, CacheSize: bc.size})
			ctx := context.Background()
			if d, err := a.Authorize(ctx, req); err != nil || !d.Allowed {
				b.Fatalf("decision %+v, %v", d, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if d, _ := a.Authorize(ctx, req); !d.Allowed {
					b.Fatal("denied")
				}
			}
		})
	}
}

func routeUID(route string) cedar.EntityUID {
	return cedar.NewEntityUID(RouteEntityType, cedar.String(route))
}
