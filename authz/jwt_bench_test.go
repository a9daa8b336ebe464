package authz

import (
	"context"
	"fmt"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// benchClaims are typical of an access token from an identity provider.
func benchClaims() jwt.MapClaims {
	return tokenClaims(map[string]any{
		"roles": []string{"reader", "writer"}, "scope": "notes:read notes:write",
		"client_id": "web-app", "email": "alice@example.test", "name": "Alice Example",
	})
}

// BenchmarkVerifyCached is the steady state: a token seen before, checked
// by hash lookup and (when on) the memory revocation store.
func BenchmarkVerifyCached(b *testing.B) {
	tok := signToken(b, jwt.SigningMethodRS256, jwtKeys(b).rsa, benchClaims(), map[string]any{"kid": "rsa1"})
	for _, tc := range []struct {
		name  string
		store RevocationStore
	}{{"revocation=off", nil}, {"revocation=memory", NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 10_000})}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := jwtConfig(b)
			cfg.CacheSize, cfg.Revocation = 10_000, tc.store
			v := newTestVerifier(b, cfg)
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCachedParallel is the cached path under concurrent
// requests, where the cache's locking shows.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	cfg := jwtConfig(b)
	cfg.CacheSize, cfg.Revocation = 10_000, NewMemoryRevocationStore(MemoryRevocationConfig{MaxEntries: 10_000})
	v := newTestVerifier(b, cfg)
	toks := make([]string, 64)
	for i := range toks {
		c := benchClaims()
		c["jti"] = fmt.Sprint("bench-", i)
		toks[i] = signToken(b, jwt.SigningMethodRS256, jwtKeys(b).rsa, c, map[string]any{"kid": "rsa1"})
		if _, err := v.Verify(context.Background(), toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := v.Verify(context.Background(), toks[i%len(toks)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkVerifyUncached is the full check, per algorithm, for reference.
func BenchmarkVerifyUncached(b *testing.B) {
	k := jwtKeys(b)
	for _, tc := range []struct {
		method jwt.SigningMethod
		key    any
		kid    string
	}{
		{jwt.SigningMethodRS256, k.rsa, "rsa1"},
		{jwt.SigningMethodES256, k.p256, "ec1"},
		{jwt.SigningMethodEdDSA, k.ed, "ed1"},
		{jwt.SigningMethodHS256, jwtSecret, ""},
	} {
		b.Run(tc.method.Alg(), func(b *testing.B) {
			v := newTestVerifier(b, jwtConfig(b))
			tok := signToken(b, tc.method, tc.key, benchClaims(), map[string]any{"kid": tc.kid})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
