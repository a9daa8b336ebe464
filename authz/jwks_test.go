package authz

import (
	"context"
	"crypto"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a JWK Set that a test can change, counting fetches.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32

	mu     sync.Mutex
	keys   []json.RawMessage
	status int
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != http.StatusOK {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

// set replaces the served keys (kid → public key), or raw JWKs.
func (s *jwksServer) set(t *testing.T, keys map[string]crypto.PublicKey, raw ...string) {
	t.Helper()
	var out []json.RawMessage
	for kid, pub := range keys {
		jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, json.RawMessage(mustJSON(t, jwk.Marshal())))
	}
	for _, r := range raw {
		out = append(out, json.RawMessage(r))
	}
	s.mu.Lock()
	s.keys = out
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// fakeClock is a settable clock for rate limits and expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func jwksConfig(url string, clock *fakeClock) VerifierConfig {
	return VerifierConfig{
		Algorithms:     []string{"RS256", "ES256"},
		JWKSURLs:       []string{url},
		JWKSRefresh:    time.Hour, // tests refresh by hand unless they say otherwise
		JWKSMinRefetch: time.Minute,
		Issuer:         jwtIssuer,
		Audience:       []string{jwtAudience},
		CacheSize:      100,
		Now:            clock.Now,
	}
}

func TestJWKSRotation(t *testing.T) {
	k := jwtKeys(t)
	srv := newJWKSServer(t)
	srv.set(t, map[string]crypto.PublicKey{"old": &k.rsa.PublicKey})
	clock := &fakeClock{now: jwtNow}
	v := newTestVerifier(t, jwksConfig(srv.URL, clock))
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("NewVerifier fetched %d times, want 1", n)
	}
	oldTok := signToken(t, jwt.SigningMethodRS256, k.rsa, tokenClaims(nil), map[string]any{"kid": "old"})
	newTok := signToken(t, jwt.SigningMethodRS256, k.rsa2, tokenClaims(map[string]any{"jti": "t2"}), map[string]any{"kid": "new"})
	mustAcceptToken(t, v, oldTok) // now cached

	// The issuer publishes a new key. Within the refetch interval an
	// unknown kid does not reach the issuer.
	srv.set(t, map[string]crypto.PublicKey{"old": &k.rsa.PublicKey, "new": &k.rsa2.PublicKey})
	mustRefuseToken(t, v, newTok, "unknown kid")
	mustRefuseToken(t, v, newTok, "unknown kid")
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("unknown kids within JWKSMinRefetch caused %d fetches, want none", n-1)
	}
	// After it, the first unknown kid triggers one fetch and verifies.
	clock.Advance(time.Minute)
	mustAcceptToken(t, v, newTok)
	mustAcceptToken(t, v, oldTok)
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// An unknown kid right after that fetch does not fetch again.
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodRS256, k.attackerRSA, tokenClaims(nil), map[string]any{"kid": "other"}), "unknown kid")
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	// The issuer retires the old key; after the next refresh its tokens,
	// cached or not, are refused.
	srv.set(t, map[string]crypto.PublicKey{"new": &k.rsa2.PublicKey})
	if err := v.jwks.fetchAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustRefuseToken(t, v, oldTok, "unknown kid")
	mustAcceptToken(t, v, newTok)
}

func TestJWKSBackgroundRefresh(t *testing.T) {
	k := jwtKeys(t)
	srv := newJWKSServer(t)
	srv.set(t, map[string]crypto.PublicKey{"old": &k.rsa.PublicKey})
	cfg := jwksConfig(srv.URL, &fakeClock{now: jwtNow})
	cfg.JWKSRefresh = 5 * time.Millisecond
	cfg.JWKSMinRefetch = time.Hour
	v := newTestVerifier(t, cfg)
	oldTok := signToken(t, jwt.SigningMethodRS256, k.rsa, tokenClaims(nil), map[string]any{"kid": "old"})
	mustAcceptToken(t, v, oldTok)

	srv.set(t, map[string]crypto.PublicKey{"new": &k.rsa2.PublicKey})
	waitFor(t, "the background refresh to drop the old key", func() bool {
		_, err := v.Verify(context.Background(), oldTok)
		return err != nil
	})
	newTok := signToken(t, jwt.SigningMethodRS256, k.rsa2, tokenClaims(nil), map[string]any{"kid": "new"})
	mustAcceptToken(t, v, newTok)

	v.Close()
	after := srv.hits.Load()
	time.Sleep(20 * time.Millisecond) // several refresh intervals
	if n := srv.hits.Load(); n != after {
		t.Errorf("%d fetches after Close", n-after)
	}
}

func TestJWKSFailures(t *testing.T) {
	k := jwtKeys(t)
	srv := newJWKSServer(t)
	srv.set(t, map[string]crypto.PublicKey{"a": &k.rsa.PublicKey})
	clock := &fakeClock{now: jwtNow}

	// Fail closed at start.
	srv.setStatus(http.StatusInternalServerError)
	if v, err := NewVerifier(context.Background(), jwksConfig(srv.URL, clock)); err == nil {
		v.Close()
		t.Fatal("NewVerifier succeeded with an unreachable JWKS")
	} else if !strings.Contains(err.Error(), "JWKSURLs: "+srv.URL+": status 500") {
		t.Errorf("error = %v", err)
	}

	// A failing refresh keeps the last good keys and shows in HealthCheck.
	srv.setStatus(http.StatusOK)
	v := newTestVerifier(t, jwksConfig(srv.URL, clock))
	if err := v.HealthCheck(context.Background()); err != nil {
		t.Fatalf("HealthCheck after a good fetch = %v", err)
	}
	srv.setStatus(http.StatusBadGateway)
	if err := v.jwks.fetchAll(context.Background()); err == nil {
		t.Fatal("fetch from a failing server succeeded")
	}
	err := v.HealthCheck(context.Background())
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "serving the last good keys") {
		t.Fatalf("HealthCheck = %v", err)
	}
	mustAcceptToken(t, v, signToken(t, jwt.SigningMethodRS256, k.rsa, tokenClaims(nil), map[string]any{"kid": "a"}))
	srv.setStatus(http.StatusOK)
	if err := v.jwks.fetchAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := v.HealthCheck(context.Background()); err != nil {
		t.Errorf("HealthCheck after recovery = %v", err)
	}
}

func TestJWKSDocumentRules(t *testing.T) {
	k := jwtKeys(t)
	srv := newJWKSServer(t)
	srv.set(t, map[string]crypto.PublicKey{"sig": &k.rsa.PublicKey},
		`{"kty":"oct","kid":"sym","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`,
		`{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}`,
		`{"kty":"EC","kid":"broken","crv":"P-256","x":"AA","y":"AA"}`,
		`{"kty":"RSA","kid":"sig","n":"AQAB","e":"AQAB"}`,
		`{"kty":"OKP","kid":"x","crv":"X25519","x":"AA"}`,
	)
	v := newTestVerifier(t, jwksConfig(srv.URL, &fakeClock{now: jwtNow}))
	set := v.keys.Load()
	if len(set.byKID) != 1 || set.byKID["sig"] == nil {
		t.Fatalf("usable keys = %v, want only sig", set.byKID)
	}
	// A symmetric key in a JWKS is public knowledge: it must never verify.
	forged := signToken(t, jwt.SigningMethodHS256, []byte("secretsecretsecretsecretsecret"), tokenClaims(nil), map[string]any{"kid": "sym"})
	mustRefuseToken(t, v, forged, "alg HS256 not allowed")

	// A document with no usable key is a failure, not an empty key set.
	srv.set(t, nil, `{"kty":"oct","kid":"sym","k":"c2VjcmV0"}`)
	if err := v.jwks.fetchAll(context.Background()); err == nil || !strings.Contains(err.Error(), "no usable signing key") {
		t.Fatalf("fetchAll = %v", err)
	}
}

func TestJWKSKeyAlgRestriction(t *testing.T) {
	k := jwtKeys(t)
	jwk, err := jwkset.NewJWKFromKey(&k.rsa.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "ps", ALG: jwkset.AlgPS256}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t)
	srv.set(t, nil, mustJSON(t, jwk.Marshal()))
	cfg := jwksConfig(srv.URL, &fakeClock{now: jwtNow})
	cfg.Algorithms = []string{"RS256", "PS256"}
	v := newTestVerifier(t, cfg)
	mustAcceptToken(t, v, signToken(t, jwt.SigningMethodPS256, k.rsa, tokenClaims(nil), map[string]any{"kid": "ps"}))
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodRS256, k.rsa, tokenClaims(nil), map[string]any{"kid": "ps"}), "key type does not match")
}

// waitFor polls cond until it holds, failing t after a generous deadline.
// It asserts an eventual state, never how long reaching it took.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
