package authz_test

import (
	"slices"
	"testing"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
)

// TestDefaultsMatchConfig checks that a Go user who starts from authz's
// defaults gets what an operator gets from the auth.* keys' defaults: the
// package that implements a value owns its default, and config.Default must
// say the same.
func TestDefaultsMatchConfig(t *testing.T) {
	a := config.Default().Auth
	j, v := a.JWT, authz.DefaultVerifierConfig
	for _, c := range []struct {
		key       string
		got, want any
	}{
		{"auth.jwt.jwks_refresh", v.JWKSRefresh, j.JWKSRefresh},
		{"auth.jwt.jwks_min_refetch", v.JWKSMinRefetch, j.JWKSMinRefetch},
		{"auth.jwt.leeway", v.Leeway, j.Leeway},
		{"auth.jwt.max_token_size", int64(v.MaxTokenSize), j.MaxTokenSize.Int64()},
		{"auth.jwt.roles_claim", v.RolesClaim, j.RolesClaim},
		{"auth.jwt.cache_size", v.CacheSize, j.CacheSize},
		{"auth.jwt.algorithms", len(v.Algorithms), len(j.Algorithms)},
		{"auth.revocation.missing_jti", string(v.MissingJTI), a.Revocation.MissingJTI},
		{"auth.revocation.max_entries", authz.DefaultMemoryRevocationConfig.MaxEntries, a.Revocation.MaxEntries},
		{"auth.cedar.cache_size", authz.DefaultAuthorizerConfig.CacheSize, a.Cedar.CacheSize},
		{"auth.cedar.reload_interval", authz.DefaultPolicyPollInterval, a.Cedar.ReloadInterval},
	} {
		if c.got != c.want {
			t.Errorf("%s: authz default %v, config.Default %v", c.key, c.got, c.want)
		}
	}
	if !slices.Equal(v.RequiredClaims, j.RequiredClaims) {
		t.Errorf("auth.jwt.required_claims: authz default %v, config.Default %v", v.RequiredClaims, j.RequiredClaims)
	}
}
