package authz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Test jwtKeys shared by the JWT tests. Keys are generated once per test
// binary (RSA generation is slow under -race) and never written anywhere
// but t.TempDir().
const (
	jwtIssuer   = "https://issuer.test"
	jwtAudience = "troupe-api"
)

var (
	jwtSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")
	// jwtNow is the fixed clock of most tests.
	jwtNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type jwtKeyring struct {
	rsa, rsa2, attackerRSA *rsa.PrivateKey
	p256, p384             *ecdsa.PrivateKey
	ed                     ed25519.PrivateKey
}

var (
	jwtKeysOnce sync.Once
	jwtKeySet   jwtKeyring
)

// jwtKeys returns the shared test keys, generating them on first use.
func jwtKeys(t testing.TB) *jwtKeyring {
	t.Helper()
	jwtKeysOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		var err error
		jwtKeySet.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		jwtKeySet.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		jwtKeySet.attackerRSA, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		jwtKeySet.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		jwtKeySet.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		_, jwtKeySet.ed, err = ed25519.GenerateKey(rand.Reader)
		must(err)
	})
	return &jwtKeySet
}

// writePEMKey writes pub as a PUBLIC KEY PEM file named name in dir.
func writePEMKey(t testing.TB, dir, name string, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return writeJWTFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func writeJWTFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenClaims returns a valid claim set at jwtNow, with overrides applied; an
// override to nil deletes the claim.
func tokenClaims(overrides map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": jwtIssuer,
		"aud": jwtAudience,
		"sub": "alice",
		"exp": jwtNow.Add(time.Hour).Unix(),
		"iat": jwtNow.Add(-time.Minute).Unix(),
		"jti": "token-1",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// signToken signs c with method and key, setting header fields (kid, jku, ...).
func signToken(t testing.TB, method jwt.SigningMethod, key any, c jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

// jwtConfig trusts an RSA key (kid "rsa1"), a P-256 key ("ec1"), an
// Ed25519 key ("ed1") and the HMAC secret, at the fixed test clock.
func jwtConfig(t testing.TB) VerifierConfig {
	t.Helper()
	k := jwtKeys(t)
	dir := t.TempDir()
	return VerifierConfig{
		Algorithms: []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"},
		HMACSecret: jwtSecret,
		PublicKeyFiles: []string{
			writePEMKey(t, dir, "rsa1.pem", &k.rsa.PublicKey),
			writePEMKey(t, dir, "ec1.pem", &k.p256.PublicKey),
			writePEMKey(t, dir, "ed1.pem", k.ed.Public()),
		},
		Issuer:   jwtIssuer,
		Audience: []string{jwtAudience},
		Leeway:   30 * time.Second,
		Now:      func() time.Time { return jwtNow },
	}
}

// newTestVerifier builds a verifier from cfg and closes it when t ends.
func newTestVerifier(t testing.TB, cfg VerifierConfig) *Verifier {
	t.Helper()
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// validRS256 is a token jwtConfig accepts.
func validRS256(t testing.TB, overrides map[string]any) string {
	return signToken(t, jwt.SigningMethodRS256, jwtKeys(t).rsa, tokenClaims(overrides), map[string]any{"kid": "rsa1"})
}

// mustRefuseToken fails t unless Verify refuses token as invalid with a reason
// containing want.
func mustRefuseToken(t *testing.T, v *Verifier, token, want string) {
	t.Helper()
	p, err := v.Verify(context.Background(), token)
	if err == nil {
		t.Fatalf("token accepted (principal %+v); want refusal %q", p, want)
	}
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("error %v (%T) is not a *TokenError matching ErrInvalidToken", err, err)
	}
	if !strings.Contains(te.Reason, want) {
		t.Fatalf("reason %q, want it to contain %q", te.Reason, want)
	}
}

// mustAcceptToken fails t unless Verify accepts token.
func mustAcceptToken(t *testing.T, v *Verifier, token string) *Principal {
	t.Helper()
	p, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

// b64url is unpadded base64url, as JWS uses.
func b64url(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// mustJSON marshals v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// discardLogger drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
