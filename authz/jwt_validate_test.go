package authz

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// fieldProblems returns the field of each problem in err; a problem that
// names no field fails the test.
func fieldProblems(t *testing.T, err error) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if !errors.As(e, &fe) {
			t.Errorf("problem %q names no field", e)
			continue
		}
		out[fe.Field] = fe.Err.Error()
	}
	return out
}

func TestVerifierConfigValidate(t *testing.T) {
	valid := func() VerifierConfig {
		cfg := DefaultVerifierConfig
		cfg.Issuer, cfg.Audience, cfg.HMACSecret = "https://idp.example.com/", []string{"api"}, jwtSecret
		return cfg
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("DefaultVerifierConfig with issuer, audience and a secret: %v", err)
	}
	for _, tc := range []struct {
		name   string
		modify func(*VerifierConfig)
		field  string // "" for valid
		want   string
	}{
		{"leeway of 5m", func(c *VerifierConfig) { c.Leeway = 5 * time.Minute }, "", ""},
		{"leeway over 5m", func(c *VerifierConfig) { c.Leeway = 5*time.Minute + time.Second }, "Leeway", "at most 5m"},
		{"token size of 1KiB", func(c *VerifierConfig) { c.MaxTokenSize = 1024 }, "", ""},
		{"token size under 1KiB", func(c *VerifierConfig) { c.MaxTokenSize = 1023 }, "MaxTokenSize", "at least 1KiB"},
		{"token size 0 is the default", func(c *VerifierConfig) { c.MaxTokenSize = 0 }, "", ""},
		{"negative refresh", func(c *VerifierConfig) { c.JWKSRefresh = -time.Second }, "JWKSRefresh", "must not be negative"},
		{"negative refetch", func(c *VerifierConfig) { c.JWKSMinRefetch = -time.Second }, "JWKSMinRefetch", "must not be negative"},
		{"negative cache", func(c *VerifierConfig) { c.CacheSize = -1 }, "CacheSize", "must not be negative"},
		{"cache 0 is off", func(c *VerifierConfig) { c.CacheSize = 0 }, "", ""},
		{"https JWKS", func(c *VerifierConfig) { c.JWKSURLs = []string{"https://idp.example.com/jwks"} }, "", ""},
		{"http JWKS on loopback", func(c *VerifierConfig) {
			c.JWKSURLs = []string{"http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]/jwks"}
		}, "", ""},
		{"http JWKS elsewhere", func(c *VerifierConfig) { c.JWKSURLs = []string{"http://idp.example.com/jwks"} }, "JWKSURLs", "must be https (http only on loopback)"},
		{"JWKS without host", func(c *VerifierConfig) { c.JWKSURLs = []string{"https:///jwks"} }, "JWKSURLs", "has no host"},
		{"missing jti: reject", func(c *VerifierConfig) { c.MissingJTI = MissingJTIReject }, "", ""},
		{"missing jti: allow", func(c *VerifierConfig) { c.MissingJTI = MissingJTIAllow }, "", ""},
		{"missing jti: unknown", func(c *VerifierConfig) { c.MissingJTI = "ignore" }, "MissingJTI", `unknown policy "ignore" (want reject or allow)`},
		{"derived algorithms, short secret", func(c *VerifierConfig) { c.Algorithms, c.HMACSecret = nil, []byte("short") }, "HMACSecret", "at least 32 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.modify(&cfg)
			got := fieldProblems(t, cfg.Validate())
			if tc.field == "" {
				if len(got) > 0 {
					t.Fatalf("Validate = %v, want nil", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[tc.field], tc.want) {
				t.Errorf("Validate = %v, want only %s: ...%s...", got, tc.field, tc.want)
			}
		})
	}
}

// TestAlgorithms checks that the exported vocabulary is the verifier's own
// table, so docs and messages cannot drift from what is accepted.
func TestAlgorithms(t *testing.T) {
	table := slices.Sorted(maps.Keys(algFamilies))
	if got := slices.Sorted(slices.Values(Algorithms)); !slices.Equal(got, table) {
		t.Errorf("Algorithms = %v, verifier table = %v", got, table)
	}
	if slices.Contains(Algorithms, "none") {
		t.Error(`Algorithms lists "none"`)
	}
}

func TestStageConfigsValidate(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	for _, tc := range []struct {
		name string
		err  error
		want map[string]string // field → part of the problem
	}{
		{"authenticate", AuthenticateConfig{Verifier: v, Cookie: "__Host-session"}.Validate(), nil},
		{"authenticate without verifier", AuthenticateConfig{Cookie: "a b"}.Validate(),
			map[string]string{"Verifier": "required", "Cookie": `"a b" is not a valid cookie name`}},
		{"authenticate, cookie with a separator", AuthenticateConfig{Verifier: v, Cookie: "sess;ion"}.Validate(),
			map[string]string{"Cookie": "not a valid cookie name"}},
		{"authorizer", AuthorizerConfig{Policies: storeOf(t, `permit (principal, action, resource);`)}.Validate(), nil},
		{"authorizer, negative cache", AuthorizerConfig{CacheSize: -1}.Validate(),
			map[string]string{"Policies": "required", "CacheSize": "must not be negative"}},
		{"authorize", AuthorizeConfig{}.Validate(), map[string]string{"Authorizer": "required", "Rule": "required"}},
		{"memory revocation", DefaultMemoryRevocationConfig.Validate(), nil},
		{"memory revocation, no room", MemoryRevocationConfig{}.Validate(), map[string]string{"MaxEntries": "must be at least 1, got 0"}},
	} {
		got := fieldProblems(t, tc.err)
		if len(got) != len(tc.want) {
			t.Errorf("%s: Validate = %v, want %v", tc.name, got, tc.want)
			continue
		}
		for field, want := range tc.want {
			if !strings.Contains(got[field], want) {
				t.Errorf("%s: %s: %q, want ...%s...", tc.name, field, got[field], want)
			}
		}
	}
}

// TestConstructorsPanicOnInvalidConfig checks the Echo-dialect rule: a
// constructor that returns no error panics, naming the field, on a config
// Validate refuses — a wiring mistake found at start-up.
func TestConstructorsPanicOnInvalidConfig(t *testing.T) {
	for name, build := range map[string]func(){
		"NewMemoryRevocationStore": func() { NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 0}) },
		"NewAuthorizer":            func() { NewAuthorizer(AuthorizerConfig{Policies: storeOf(t, ``), CacheSize: -1}) },
		"Authenticate":             func() { Authenticate(AuthenticateConfig{}) },
		"Authorize":                func() { Authorize(AuthorizeConfig{}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), ": ") {
					t.Errorf("%s: recovered %v, want a panic naming the field", name, r)
				}
			}()
			build()
		}()
	}
}
