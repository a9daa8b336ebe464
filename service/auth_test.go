package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/internal/redistest"
	"github.com/troupehq/troupe/versioning"
)

// testSecret is the HS256 secret of the auth tests (32 bytes).
const testSecret = "0123456789abcdef0123456789abcdef"

// authEnv turns authentication on with testSecret, issuer "troupe-test" and
// audience "api", plus extra.
func authEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"AUTH__JWT__HMAC_SECRET": testSecret,
		"AUTH__JWT__ISSUER":      "troupe-test",
		"AUTH__JWT__AUDIENCE":    "api",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// claims are a valid token's claims for subject ada, changed by edit.
func claims(edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": "troupe-test", "aud": "api", "sub": "ada", "jti": "token-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "roles": []string{"writer"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// hs signs c with testSecret using method.
func hs(t *testing.T, method jwt.SigningMethod, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authAPI has a protected route that reports the principal, a route listed
// as public in some tests, one marked Public in code, and a POST.
func authAPI() *versioning.API {
	me := func(c echo.Context) error {
		p := authz.FromContext(c.Request().Context())
		if p == nil {
			return c.JSON(http.StatusOK, map[string]any{"subject": nil})
		}
		return c.JSON(http.StatusOK, map[string]any{"subject": p.Subject, "roles": p.Roles, "kind": p.Kind})
	}
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/me", me)
		g.POST("/me", me)
		g.GET("/open", me)
		g.GET("/health", me).Public()
	})
}

// call sends method path with an optional bearer token and cookie, and
// returns the status and body.
func call(t *testing.T, r *running, method, path, token string, cookie *http.Cookie) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, r.base()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp), resp.Header
}

func TestAuthOffByDefault(t *testing.T) {
	r := start(t, nil, WithAPI(authAPI()))
	if status, body, _ := call(t, r, "GET", "/api/v1/me", "", nil); status != http.StatusOK || !strings.Contains(body, `"subject":null`) {
		t.Errorf("without auth keys: %d %s, want an anonymous 200", status, body)
	}
}

// TestAuthTokens checks the token rules each [auth.jwt] key sets, through
// the running service.
func TestAuthTokens(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		token  func(t *testing.T) string
		cookie bool
		path   string
		want   int
		body   string
	}{
		{name: "valid token", token: func(t *testing.T) string { return hs(t, jwt.SigningMethodHS256, claims(nil)) }, want: 200, body: `"subject":"ada"`},
		{name: "no token", want: 401},
		{name: "wrong issuer (auth.jwt.issuer)", token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["iss"] = "someone-else" }))
		}, want: 401},
		{name: "wrong audience (auth.jwt.audience)", token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "more"} }))
		}, want: 401},
		{name: "audience list", env: map[string]string{"AUTH__JWT__AUDIENCE": "other, api"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "more"} }))
		}, want: 200},
		{name: "algorithm not allowed (auth.jwt.algorithms)", env: map[string]string{"AUTH__JWT__ALGORITHMS": "HS512"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(nil))
		}, want: 401},
		{name: "algorithm allowed", env: map[string]string{"AUTH__JWT__ALGORITHMS": "HS512"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS512, claims(nil))
		}, want: 200},
		{name: "expired within leeway (auth.jwt.leeway)", token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() }))
		}, want: 200},
		{name: "expired without leeway", env: map[string]string{"AUTH__JWT__LEEWAY": "0s"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() }))
		}, want: 401},
		{name: "missing required claim (auth.jwt.required_claims)", env: map[string]string{"AUTH__JWT__REQUIRED_CLAIMS": "exp,sub,tenant"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(nil))
		}, want: 401},
		{name: "oversized token (auth.jwt.max_token_size)", env: map[string]string{"AUTH__JWT__MAX_TOKEN_SIZE": "1KiB"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 2048) }))
		}, want: 401},
		{name: "large token under the default limit", token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 2048) }))
		}, want: 200},
		{name: "roles claim (auth.jwt.roles_claim)", env: map[string]string{"AUTH__JWT__ROLES_CLAIM": "groups"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["groups"] = "admin auditor" }))
		}, want: 200, body: `"roles":["admin","auditor"]`},
		{name: "token in a cookie (auth.jwt.cookie)", env: map[string]string{"AUTH__JWT__COOKIE": "session"}, token: func(t *testing.T) string {
			return hs(t, jwt.SigningMethodHS256, claims(nil))
		}, cookie: true, want: 200, body: `"subject":"ada"`},
		{name: "cookie not configured", token: func(t *testing.T) string { return hs(t, jwt.SigningMethodHS256, claims(nil)) }, cookie: true, want: 401},
		{name: "public in code (Route.Public)", path: "/api/v1/health", want: 200, body: `"subject":null`},
		{name: "public by method and route (auth.public_paths)", env: map[string]string{"AUTH__PUBLIC_PATHS": "GET /api/v1/open"}, path: "/api/v1/open", want: 200},
		{name: "public by route, every method", env: map[string]string{"AUTH__PUBLIC_PATHS": "/api/v1/me"}, want: 200, body: `"subject":null`},
		{name: "unknown route needs a token too", path: "/api/v1/nowhere", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, authEnv(tt.env), WithAPI(authAPI()))
			path := tt.path
			if path == "" {
				path = "/api/v1/me"
			}
			var token string
			var cookie *http.Cookie
			if tt.token != nil {
				token = tt.token(t)
			}
			if tt.cookie {
				cookie, token = &http.Cookie{Name: "session", Value: token}, ""
			}
			status, body, header := call(t, r, "GET", path, token, cookie)
			if status != tt.want || !strings.Contains(body, tt.body) {
				t.Errorf("status %d %s, want %d containing %q", status, body, tt.want, tt.body)
			}
			if status == http.StatusUnauthorized {
				if !strings.HasPrefix(header.Get("WWW-Authenticate"), `Bearer realm="api"`) || header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("401 without a Bearer challenge or problem body: %v", header)
				}
				if strings.Contains(body, "issuer") || strings.Contains(body, "audience") || strings.Contains(body, "expired") {
					t.Errorf("401 body says which check failed: %s", body)
				}
			}
		})
	}
}

// TestAuthFailsClosedAtStart checks that broken key configuration stops
// start-up, naming the key.
func TestAuthFailsClosedAtStart(t *testing.T) {
	dir := t.TempDir()
	broken := writePolicy(t, "permit (principal, action, resource")
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"unreadable key file": {map[string]string{"AUTH__JWT__PUBLIC_KEY_FILES": filepath.Join(dir, "missing.pem")}, "auth.jwt.public_key_files"},
		"unreachable JWKS":    {map[string]string{"AUTH__JWT__JWKS_URLS": "http://127.0.0.1:1/jwks"}, "auth.jwt.jwks_urls"},
		"missing policies":    {map[string]string{"AUTH__CEDAR__POLICIES": filepath.Join(dir, "none.cedar")}, "auth.cedar.policies"},
		"broken policy":       {map[string]string{"AUTH__CEDAR__POLICIES": broken}, "auth.cedar.policies"},
	}
	for name, tt := range cases {
		t.Run(name, func(t *testing.T) {
			env := authEnv(tt.env)
			if tt.env["AUTH__JWT__PUBLIC_KEY_FILES"] != "" || tt.env["AUTH__JWT__JWKS_URLS"] != "" {
				delete(env, "AUTH__JWT__HMAC_SECRET")
				env["AUTH__JWT__ALGORITHMS"] = "ES256"
			}
			_, err := New("test", WithConfigLoader(testLoader(t, env)), WithLogOutput(&syncBuffer{}), WithAPI(authAPI()))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// ecKey is a P-256 key with its kid, for public_key_files and JWKS tests.
type ecKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func newECKey(t *testing.T, kid string) ecKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ecKey{kid: kid, priv: k}
}

func (k ecKey) sign(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k ecKey) jwk() map[string]string {
	b := func(x []byte) string { return base64.RawURLEncoding.EncodeToString(x) }
	pub, _ := k.priv.PublicKey.Bytes() // uncompressed point: 0x04 || X || Y
	return map[string]string{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": k.kid, "x": b(pub[1:33]), "y": b(pub[33:65])}
}

func TestAuthPublicKeyFiles(t *testing.T) {
	key := newECKey(t, "signing-2026")
	der, err := x509.MarshalPKIXPublicKey(&key.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "signing-2026.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := authEnv(map[string]string{"AUTH__JWT__PUBLIC_KEY_FILES": file, "AUTH__JWT__ALGORITHMS": "ES256"})
	delete(env, "AUTH__JWT__HMAC_SECRET")
	r := start(t, env, WithAPI(authAPI()))
	if status, body, _ := call(t, r, "GET", "/api/v1/me", key.sign(t, claims(nil)), nil); status != 200 {
		t.Errorf("ES256 token of the key file: %d %s", status, body)
	}
	other := newECKey(t, "signing-2026")
	if status, _, _ := call(t, r, "GET", "/api/v1/me", other.sign(t, claims(nil)), nil); status != 401 {
		t.Errorf("token of another key with the same kid: %d, want 401", status)
	}
}

// jwksServer serves the JWK Set of keys, which a test may change, and
// counts fetches.
type jwksServer struct {
	*httptest.Server
	keys    atomic.Pointer[[]ecKey]
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...ecKey) *jwksServer {
	s := &jwksServer{}
	s.set(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for _, k := range *s.keys.Load() {
			set.Keys = append(set.Keys, k.jwk())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...ecKey) { s.keys.Store(&keys) }

func jwksEnv(s *jwksServer, extra map[string]string) map[string]string {
	env := authEnv(extra)
	delete(env, "AUTH__JWT__HMAC_SECRET")
	env["AUTH__JWT__JWKS_URLS"] = s.URL + "/jwks"
	env["AUTH__JWT__ALGORITHMS"] = "ES256"
	return env
}

// TestAuthJWKS checks key rotation through a JWK Set: a new kid is picked up
// by the rate-limited refetch, a removed key stops working after the
// background refresh.
func TestAuthJWKS(t *testing.T) {
	a, b := newECKey(t, "a"), newECKey(t, "b")

	t.Run("jwks_min_refetch", func(t *testing.T) {
		// The fetch at start counts: within an hour of it no unknown kid may
		// trigger another.
		for minRefetch, wantFetches := range map[string]int64{"1h": 1, "1ns": 4} {
			srv := newJWKSServer(t, a)
			r := start(t, jwksEnv(srv, map[string]string{"AUTH__JWT__JWKS_MIN_REFETCH": minRefetch}), WithAPI(authAPI()))
			for i := range 3 {
				call(t, r, "GET", "/api/v1/me", newECKey(t, "unknown-"+string(rune('a'+i))).sign(t, claims(nil)), nil)
			}
			if got := srv.fetches.Load(); got != wantFetches {
				t.Errorf("min refetch %s: %d fetches for 3 unknown kids, want %d (one at start)", minRefetch, got, wantFetches)
			}
		}
	})

	t.Run("rotation", func(t *testing.T) {
		srv := newJWKSServer(t, a)
		r := start(t, jwksEnv(srv, map[string]string{"AUTH__JWT__JWKS_MIN_REFETCH": "1ns", "AUTH__JWT__JWKS_REFRESH": "20ms"}), WithAPI(authAPI()))
		tokenA, tokenB := a.sign(t, claims(nil)), b.sign(t, claims(nil))
		if status, _, _ := call(t, r, "GET", "/api/v1/me", tokenA, nil); status != 200 {
			t.Fatalf("token of the published key: %d", status)
		}
		srv.set(a, b) // b is published: its first token triggers a refetch
		if status, _, _ := call(t, r, "GET", "/api/v1/me", tokenB, nil); status != 200 {
			t.Errorf("token of a newly published key: %d, want 200", status)
		}
		srv.set(b) // a is withdrawn: the background refresh drops it
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, _, _ := call(t, r, "GET", "/api/v1/me", tokenA, nil)
			if status == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a withdrawn key still verifies tokens after the refresh period")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestAuthRevocation covers [auth.revocation] with the memory store and,
// with two instances sharing a real redis-server, the Redis store.
func TestAuthRevocation(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		r := start(t, authEnv(map[string]string{"AUTH__REVOCATION__ENABLED": "true"}), WithAPI(authAPI()))
		token := hs(t, jwt.SigningMethodHS256, claims(nil))
		if status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil); status != 200 {
			t.Fatalf("before revocation: %d", status)
		}
		if err := r.svc.RevokeToken(context.Background(), "token-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil); status != 401 {
			t.Errorf("after revocation: %d, want 401", status)
		}
		noJTI := hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { delete(c, "jti") }))
		if status, _, _ := call(t, r, "GET", "/api/v1/me", noJTI, nil); status != 401 {
			t.Errorf("token without jti, missing_jti=reject: %d, want 401", status)
		}
	})
	t.Run("off", func(t *testing.T) {
		r := start(t, authEnv(nil), WithAPI(authAPI()))
		if err := r.svc.RevokeToken(context.Background(), "token-1", time.Now().Add(time.Hour)); err == nil {
			t.Error("RevokeToken succeeded with revocation off")
		}
	})
	t.Run("missing_jti allow", func(t *testing.T) {
		r := start(t, authEnv(map[string]string{"AUTH__REVOCATION__ENABLED": "true", "AUTH__REVOCATION__MISSING_JTI": "allow"}), WithAPI(authAPI()))
		noJTI := hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { delete(c, "jti") }))
		if status, _, _ := call(t, r, "GET", "/api/v1/me", noJTI, nil); status != 200 {
			t.Errorf("token without jti, missing_jti=allow: %d, want 200", status)
		}
	})
	t.Run("max_entries", func(t *testing.T) {
		r := start(t, authEnv(map[string]string{"AUTH__REVOCATION__ENABLED": "true", "AUTH__REVOCATION__MAX_ENTRIES": "1"}), WithAPI(authAPI()))
		until := time.Now().Add(time.Hour)
		if err := r.svc.RevokeToken(context.Background(), "a", until); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.RevokeToken(context.Background(), "b", until); !errors.Is(err, authz.ErrRevocationStoreFull) {
			t.Errorf("second revocation into a 1-entry store = %v, want ErrRevocationStoreFull", err)
		}
	})
	t.Run("redis", func(t *testing.T) {
		redisSrv := redistest.Start(t)
		env := authEnv(map[string]string{"AUTH__REVOCATION__ENABLED": "true", "AUTH__REVOCATION__STORE": "redis", "REDIS__URL": redisSrv.URL(), "REDIS__TIMEOUT": relaxedRedisTimeout})
		one, two := start(t, env, WithAPI(authAPI())), start(t, env, WithAPI(authAPI()))
		token := hs(t, jwt.SigningMethodHS256, claims(nil))
		if err := one.svc.RevokeToken(context.Background(), "token-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := call(t, two, "GET", "/api/v1/me", token, nil); status != 401 {
			t.Errorf("token revoked on another instance: %d, want 401", status)
		}
		redisSrv.Kill()
		other := hs(t, jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["jti"] = "token-2" }))
		if status, _, header := call(t, two, "GET", "/api/v1/me", other, nil); status != 503 || header.Get("Retry-After") == "" {
			t.Errorf("revocation store down: %d %v, want 503 with Retry-After (fail closed)", status, header)
		}
	})
}

// writePolicy writes a policy file in a fresh directory and returns its
// path.
func writePolicy(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.cedar")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const getOnly = `@id("read") permit (principal, action == Action::"GET /api/v1/me", resource);`

// TestAuthPolicies checks [auth.cedar]: decisions, reload and a failed
// reload keeping the old policies with readiness warning.
func TestAuthPolicies(t *testing.T) {
	path := writePolicy(t, getOnly)
	r := start(t, authEnv(map[string]string{"AUTH__CEDAR__POLICIES": path, "AUTH__CEDAR__RELOAD_INTERVAL": "20ms"}), WithAPI(authAPI()))
	token := hs(t, jwt.SigningMethodHS256, claims(nil))
	if status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil); status != 200 {
		t.Errorf("permitted GET: %d", status)
	}
	status, body, _ := call(t, r, "POST", "/api/v1/me", token, nil)
	if status != 403 || strings.Contains(body, "read") {
		t.Errorf("POST without a permit: %d %s, want 403 that names no policy", status, body)
	}

	// A reload that fails keeps the old policies and warns on readiness.
	if err := os.WriteFile(path, []byte("permit (principal,"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, b := get(t, r.adminBase()+"/readyz")
		return strings.Contains(string(b), `"authz:policies"`) && strings.Contains(string(b), `"warn"`)
	})
	if status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil); status != 200 {
		t.Errorf("GET after a failed reload: %d, want the old policies' 200", status)
	}

	// A good file takes effect.
	if err := os.WriteFile(path, []byte(getOnly+"\n"+`@id("write") permit (principal, action == Action::"POST /api/v1/me", resource);`), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { s, _, _ := call(t, r, "POST", "/api/v1/me", token, nil); return s == 200 })
}

// TestAuthPoliciesLoadOnce checks reload_interval 0: the policies read at
// start stay in force.
func TestAuthPoliciesLoadOnce(t *testing.T) {
	path := writePolicy(t, getOnly)
	r := start(t, authEnv(map[string]string{"AUTH__CEDAR__POLICIES": path, "AUTH__CEDAR__RELOAD_INTERVAL": "0s"}), WithAPI(authAPI()))
	if err := os.WriteFile(path, []byte(`permit (principal, action, resource);`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.logs.String(), `"subsystem":"policies"`) {
		t.Error("a policy watcher ran with reload_interval 0")
	}
}

// cacheLookups scrapes the auth cache counter of cache ("token" or
// "decision") by result.
func cacheLookups(t *testing.T, r *running, cache string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	if f := scrape(t, r.adminBase()+"/metrics")["troupe_auth_cache_lookups_total"]; f != nil {
		for _, m := range f.GetMetric() {
			if l := labels(m); l["troupe_auth_cache"] == cache {
				out[l["troupe_cache_result"]] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestAuthCaches checks auth.jwt.cache_size and auth.cedar.cache_size: with
// a cache, the second of two identical requests is a hit; with 0, there is
// no cache to look in.
func TestAuthCaches(t *testing.T) {
	for _, size := range []string{"100", "0"} {
		r := start(t, authEnv(map[string]string{
			"AUTH__JWT__CACHE_SIZE": size, "AUTH__CEDAR__CACHE_SIZE": size, "AUTH__CEDAR__POLICIES": writePolicy(t, getOnly),
		}), WithAPI(authAPI()))
		token := hs(t, jwt.SigningMethodHS256, claims(nil))
		for range 2 {
			if status, _, _ := call(t, r, "GET", "/api/v1/me", token, nil); status != 200 {
				t.Fatalf("cache %s: %d", size, status)
			}
		}
		for _, cache := range []string{"token", "decision"} {
			got := cacheLookups(t, r, cache)
			want := map[string]float64{"hit": 1, "miss": 1}
			if size == "0" {
				want = map[string]float64{}
			}
			if len(got) != len(want) || got["hit"] != want["hit"] || got["miss"] != want["miss"] {
				t.Errorf("cache_size %s: %s cache lookups %v, want %v", size, cache, got, want)
			}
		}
	}
}
