package authz

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	cedar "github.com/cedar-policy/cedar-go"
)

func TestDecisionCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newDecisionCache(2)
	c.put([]byte("a"), Decision{Allowed: true})
	c.put([]byte("b"), Decision{})
	if _, ok := c.get([]byte("a")); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put([]byte("c"), Decision{})
	if _, ok := c.get([]byte("b")); ok {
		t.Error("b should have been evicted")
	}
	if d, ok := c.get([]byte("a")); !ok || !d.Allowed {
		t.Errorf("a = %+v, %v", d, ok)
	}
	c.put([]byte("a"), Decision{}) // overwrite keeps the size
	if d, _ := c.get([]byte("a")); d.Allowed || c.len() != 2 {
		t.Errorf("after overwrite: a = %+v, len %d", d, c.len())
	}
	c.purge()
	if c.len() != 0 {
		t.Errorf("len after purge = %d", c.len())
	}
}

func authorize(t *testing.T, a *Authorizer, req Request) Decision {
	t.Helper()
	d, err := a.Authorize(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCacheHitSkipsEvaluation(t *testing.T) {
	s := storeOf(t, `permit (principal, action, resource);`)
	a := NewAuthorizer(AuthorizerConfig{Policies: s, CacheSize: DefaultDecisionCacheSize})
	req := Request{Principal: user("alice"), Action: readNote, Resource: note("1")}
	if d := authorize(t, a, req); !d.Allowed || d.Cached {
		t.Fatalf("first decision = %+v", d)
	}
	// Change the live set behind the store's back: only an evaluation
	// would notice, so an unchanged answer proves none happened.
	s.snapshot().set.Add("sneaky", forbidAll(t))
	if d := authorize(t, a, req); !d.Allowed || !d.Cached {
		t.Fatalf("second decision = %+v, want the cached allow", d)
	}
	req.Principal = user("bob")
	if d := authorize(t, a, req); d.Allowed || d.Cached {
		t.Errorf("another principal = %+v, want a fresh deny", d)
	}
}

func forbidAll(t *testing.T) *cedar.Policy {
	t.Helper()
	var p cedar.Policy
	if err := p.UnmarshalCedar([]byte(`forbid (principal, action, resource);`)); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestCacheFlushedOnReload(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.cedar": `permit (principal, action, resource);`})
	s, err := LoadPolicies(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthorizer(AuthorizerConfig{Policies: s, CacheSize: DefaultDecisionCacheSize})
	req := Request{Principal: user("alice"), Action: readNote, Resource: note("1")}
	authorize(t, a, req)
	if d := authorize(t, a, req); !d.Allowed || !d.Cached {
		t.Fatalf("decision = %+v, want a cached allow", d)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.cedar"), []byte(`forbid (principal, action, resource);`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.cache.len() != 0 {
		t.Errorf("cache holds %d decisions after a reload", a.cache.len())
	}
	if d := authorize(t, a, req); d.Allowed || d.Cached {
		t.Errorf("after reload: decision = %+v, want a fresh deny", d)
	}
}

func TestCacheKey(t *testing.T) {
	withDept := func(dept string) *Principal {
		p := user("alice")
		p.Claims["dept"] = dept
		return p
	}
	tests := []struct {
		name       string
		policies   string
		first      Request
		second     Request
		wantCached bool
		allowed    [2]bool // of the first and second decision
	}{
		{
			name:     "same request hits",
			policies: `permit (principal, action, resource);`,
			first:    Request{Principal: user("alice"), Action: readNote, Resource: note("1")},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("1")}, wantCached: true, allowed: [2]bool{true, true},
		},
		{
			name:     "a claim is part of the principal",
			policies: `permit (principal, action, resource) when { principal.dept == "ops" };`,
			first:    Request{Principal: withDept("ops"), Action: readNote, Resource: note("1")},
			second:   Request{Principal: withDept("sales"), Action: readNote, Resource: note("1")}, allowed: [2]bool{true, false},
		},
		{
			name:     "roles are part of the principal",
			policies: `permit (principal in Role::"admin", action, resource);`,
			first:    Request{Principal: user("alice", "admin"), Action: readNote, Resource: note("1")},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("1")}, allowed: [2]bool{true, false},
		},
		{
			name:     "resource id",
			policies: `permit (principal, action, resource == Note::"1");`,
			first:    Request{Principal: user("alice"), Action: readNote, Resource: note("1")},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("2")}, allowed: [2]bool{true, false},
		},
		{
			name:     "an unread context attribute does not split the cache",
			policies: `permit (principal, action, resource) when { context.method == "GET" };`,
			first:    Request{Principal: user("alice"), Action: readNote, Resource: note("1"), Context: RequestContext{Method: "GET", Path: "/a"}},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("1"), Context: RequestContext{Method: "GET", Path: "/b"}}, wantCached: true, allowed: [2]bool{true, true},
		},
		{
			name:     "a read context attribute does",
			policies: `permit (principal, action, resource) when { context.path == "/a" };`,
			first:    Request{Principal: user("alice"), Action: readNote, Resource: note("1"), Context: RequestContext{Path: "/a"}},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("1"), Context: RequestContext{Path: "/b"}}, allowed: [2]bool{true, false},
		},
		{
			name:     "policies reading the time are never cached",
			policies: `permit (principal, action, resource) when { context.time != 0 };`,
			first:    Request{Principal: user("alice"), Action: readNote, Resource: note("1")},
			second:   Request{Principal: user("alice"), Action: readNote, Resource: note("1")}, allowed: [2]bool{true, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, tt.policies), CacheSize: DefaultDecisionCacheSize})
			first := authorize(t, a, tt.first)
			second := authorize(t, a, tt.second)
			if second.Cached != tt.wantCached {
				t.Fatalf("second decision cached = %v, want %v", second.Cached, tt.wantCached)
			}
			if got := [2]bool{first.Allowed, second.Allowed}; got != tt.allowed {
				t.Errorf("allowed = %v, want %v", got, tt.allowed)
			}
		})
	}
}

func TestProviderDecisionsNotCached(t *testing.T) {
	provider := &owners{owner: map[string]string{"1": "alice"}}
	a := NewAuthorizer(AuthorizerConfig{Policies: notesStore(t), Entities: provider, CacheSize: DefaultDecisionCacheSize})
	req := Request{Principal: user("alice"), Action: deleteNote, Resource: note("1")}
	if d := authorize(t, a, req); !d.Allowed {
		t.Fatalf("owner: %+v", d)
	}
	provider.owner["1"] = "bob" // the note changes hands
	if d := authorize(t, a, req); d.Allowed || d.Cached || provider.calls != 2 {
		t.Errorf("after the owner changed: %+v after %d provider calls, want a fresh deny", d, provider.calls)
	}
}

// TestCacheDisabled checks that a CacheSize of 0 means no cache, as 0 does
// in auth.cedar.cache_size.
func TestCacheDisabled(t *testing.T) {
	a := NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, `permit (principal, action, resource);`)})
	req := Request{Principal: user("alice"), Action: readNote, Resource: note("1")}
	for range 2 {
		if d := authorize(t, a, req); !d.Allowed || d.Cached {
			t.Fatalf("decision = %+v", d)
		}
	}
}

func TestConcurrentAuthorizeDuringReloads(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.cedar": `permit (principal, action, resource);`})
	s, err := LoadPolicies(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthorizer(AuthorizerConfig{Policies: s, CacheSize: 8})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req := Request{Principal: user(fmt.Sprint("u", w, i%16)), Action: readNote, Resource: note("1")}
				if _, err := a.Authorize(context.Background(), req); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	policies := []string{`forbid (principal, action, resource);`, `permit (principal, action, resource);`}
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(dir, "p.cedar"), []byte(policies[i%2]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// The last set permits; no decision cached under an earlier one answers.
	for i := range 16 {
		if d := authorize(t, a, Request{Principal: user(fmt.Sprint("u0", i)), Action: readNote, Resource: note("1")}); !d.Allowed {
			t.Fatalf("decision %+v after the final reload", d)
		}
	}
}
