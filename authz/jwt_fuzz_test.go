package authz

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, every
// refusal must be an invalid-token error, and nothing but the one genuinely
// signed seed may verify.
func FuzzVerify(f *testing.F) {
	cfg := jwtConfig(f)
	cfg.CacheSize = 16
	v := newTestVerifier(f, cfg)
	valid := validRS256(f, nil)
	validHS := signToken(f, jwt.SigningMethodHS256, jwtSecret, tokenClaims(nil), nil)
	head, rest, _ := strings.Cut(valid, ".")
	payload, _, _ := strings.Cut(rest, ".")
	for _, seed := range []string{
		valid, validHS, valid + ".", valid + "\n", "", ".", "..", "a.b.c", head, head + "." + payload,
		strings.Replace(valid, ".", "..", 1), strings.ToUpper(valid),
		b64url(`{"alg":"none"}`) + "." + b64url(`{"sub":"x"}`) + ".",
		b64url(`{"alg":"HS256","crit":["x"]}`) + "." + b64url(`{}`) + ".AAAA",
		b64url(`{"alg":"RS256","kid":"../../etc/passwd"}`) + "." + b64url(`{"exp":1e400}`) + ".AAAA",
		b64url(`{"alg":"ES256","kid":{"a":1}}`) + "." + b64url(`[]`) + ".AAAA",
		b64url(`{"alg":"EdDSA"`) + "." + b64url(`null`) + ".AAAA",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(context.Background(), token)
		if err == nil {
			if token != valid && token != validHS {
				t.Fatalf("forged token verified: %q → %+v", token, p)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("refusal %v is not ErrInvalidToken", err)
		}
	})
}

// FuzzJWKSParse feeds arbitrary documents to the JWKS parser, which reads
// what a remote server sends: it must never panic, and whatever it accepts
// must be a usable asymmetric verification key.
func FuzzJWKSParse(f *testing.F) {
	f.Add(`{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	f.Add(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","x5u":"http://127.0.0.1:1/"}]}`)
	f.Add(`{"keys":[{"kty":"oct","k":"AAAA"}]}`)
	f.Add(`{"keys":null}`)
	f.Add(`[]`)
	j := &jwksClient{logger: discardLogger()}
	f.Fuzz(func(t *testing.T, doc string) {
		keys, err := j.parse(context.Background(), "fuzz", []byte(doc))
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, k := range keys {
			if k.family == familyNone || k.family == familyHMAC || k.key == nil {
				t.Fatalf("unusable key accepted: %+v", k)
			}
		}
	})
}
