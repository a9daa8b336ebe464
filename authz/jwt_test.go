package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyEveryAlgorithm(t *testing.T) {
	k := jwtKeys(t)
	v := newTestVerifier(t, jwtConfig(t))
	for _, tc := range []struct {
		method jwt.SigningMethod
		key    any
		kid    string
	}{
		{jwt.SigningMethodRS256, k.rsa, "rsa1"},
		{jwt.SigningMethodPS256, k.rsa, "rsa1"},
		{jwt.SigningMethodES256, k.p256, "ec1"},
		{jwt.SigningMethodEdDSA, k.ed, "ed1"},
		{jwt.SigningMethodHS256, jwtSecret, ""},
		{jwt.SigningMethodRS256, k.rsa, ""}, // one RSA key: no kid needed
		{jwt.SigningMethodHS256, jwtSecret, "whatever"},
	} {
		t.Run(tc.method.Alg()+"/"+tc.kid, func(t *testing.T) {
			header := map[string]any{}
			if tc.kid != "" {
				header["kid"] = tc.kid
			}
			p := mustAcceptToken(t, v, signToken(t, tc.method, tc.key, tokenClaims(nil), header))
			if p.Subject != "alice" || p.TokenID != "token-1" || !p.ExpiresAt.Equal(jwtNow.Add(time.Hour)) {
				t.Errorf("principal = %+v", p)
			}
		})
	}
	// Allowed by the allow-list, refused for want of a key of its type.
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodES384, k.p384, tokenClaims(nil), nil), "alg ES384 not allowed")
}

func TestPrincipalClaims(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.RolesClaim = "groups"
	v := newTestVerifier(t, cfg)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		kind   Kind
		roles  []string
		scopes []string
	}{
		{"plain user", nil, KindUser, nil, nil},
		{"roles array, scope string", map[string]any{"groups": []string{"admin", "dev"}, "scope": "notes:read notes:write"},
			KindUser, []string{"admin", "dev"}, []string{"notes:read", "notes:write"}},
		{"roles string, scp array", map[string]any{"groups": "admin  dev", "scp": []string{"a", "b"}},
			KindUser, []string{"admin", "dev"}, []string{"a", "b"}},
		{"scope wins over scp", map[string]any{"scope": "x", "scp": []string{"y"}}, KindUser, nil, []string{"x"}},
		{"client credentials via client_id", map[string]any{"sub": "svc-a", "client_id": "svc-a"}, KindClient, nil, nil},
		{"client credentials via azp", map[string]any{"sub": "svc-a", "azp": "svc-a"}, KindClient, nil, nil},
		{"user through a client", map[string]any{"client_id": "web-app"}, KindUser, nil, nil},
		{"kind claim service", map[string]any{"kind": "service"}, KindService, nil, nil},
		{"kind claim client", map[string]any{"kind": "client"}, KindClient, nil, nil},
		{"kind claim user beats client_id", map[string]any{"kind": "user", "client_id": "alice"}, KindUser, nil, nil},
		{"unknown kind ignored", map[string]any{"kind": "root"}, KindUser, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustAcceptToken(t, v, validRS256(t, tc.claims))
			if p.Kind != tc.kind || !slices.Equal(p.Roles, tc.roles) || !slices.Equal(p.Scopes, tc.scopes) {
				t.Errorf("kind=%q roles=%q scopes=%q, want %q %q %q", p.Kind, p.Roles, p.Scopes, tc.kind, tc.roles, tc.scopes)
			}
			if p.Claims["iss"] != jwtIssuer {
				t.Errorf("Claims[iss] = %v", p.Claims["iss"])
			}
		})
	}
	for name, c := range map[string]map[string]any{
		"roles number":      {"groups": 3},
		"roles mixed array": {"groups": []any{"a", 1}},
		"scp object":        {"scp": map[string]any{"a": 1}},
		"jti number":        {"jti": 7},
		"jti empty":         {"jti": ""},
	} {
		t.Run(name, func(t *testing.T) { mustRefuseToken(t, v, validRS256(t, c), "") })
	}
}

func TestSeveralKeysOfATypeRequireKid(t *testing.T) {
	k := jwtKeys(t)
	cfg := jwtConfig(t)
	cfg.PublicKeyFiles = append(cfg.PublicKeyFiles, writePEMKey(t, t.TempDir(), "rsa2.pem", &k.rsa2.PublicKey))
	v := newTestVerifier(t, cfg)
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodRS256, k.rsa, tokenClaims(nil), nil), "no kid, and several keys fit RS256")
	mustAcceptToken(t, v, signToken(t, jwt.SigningMethodRS256, k.rsa2, tokenClaims(nil), map[string]any{"kid": "rsa2"}))
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodRS256, k.rsa2, tokenClaims(nil), map[string]any{"kid": "rsa1"}), "bad signature")
}

func TestES256RefusesAP384Key(t *testing.T) {
	k := jwtKeys(t)
	cfg := jwtConfig(t)
	cfg.Algorithms = append(cfg.Algorithms, "ES384")
	cfg.PublicKeyFiles = append(cfg.PublicKeyFiles, writePEMKey(t, t.TempDir(), "p384.pem", &k.p384.PublicKey))
	v := newTestVerifier(t, cfg)
	mustAcceptToken(t, v, signToken(t, jwt.SigningMethodES384, k.p384, tokenClaims(nil), map[string]any{"kid": "p384"}))
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodES256, k.p256, tokenClaims(nil), map[string]any{"kid": "p384"}), "key type does not match alg ES256")
}

func TestNewVerifierConfigErrors(t *testing.T) {
	k := jwtKeys(t)
	dir := t.TempDir()
	rsaFile := writePEMKey(t, dir, "rsa.pem", &k.rsa.PublicKey)
	ecFile := writePEMKey(t, dir, "ec.pem", &k.p256.PublicKey)
	base := func() VerifierConfig {
		return VerifierConfig{Algorithms: []string{"RS256"}, PublicKeyFiles: []string{rsaFile}, Issuer: "i", Audience: []string{"a"}}
	}
	for _, tc := range []struct {
		name   string
		modify func(*VerifierConfig)
		want   []string
	}{
		{"no key", func(c *VerifierConfig) { c.PublicKeyFiles = nil },
			[]string{"no usable key: set HMACSecret, PublicKeyFiles or JWKSURLs"}},
		{"missing issuer and audience", func(c *VerifierConfig) { c.Issuer, c.Audience = "", nil },
			[]string{"Issuer: required", "Audience: required"}},
		{"none", func(c *VerifierConfig) { c.Algorithms = []string{"RS256", "none"} }, []string{`Algorithms: "none" is never allowed`}},
		{"unknown alg", func(c *VerifierConfig) { c.Algorithms = []string{"RS256", "ES512"} }, []string{`Algorithms: unknown algorithm "ES512"`}},
		{"HS listed without secret", func(c *VerifierConfig) { c.Algorithms = []string{"RS256", "HS256"} },
			[]string{"HMACSecret: required: an HS algorithm is allowed"}},
		{"secret without HS", func(c *VerifierConfig) { c.HMACSecret = jwtSecret }, []string{"HMACSecret: set, but no HS algorithm is allowed"}},
		{"short secret", func(c *VerifierConfig) { c.Algorithms, c.HMACSecret = []string{"HS256"}, []byte("short") },
			[]string{"HMACSecret: must be at least 32 bytes (256 bits, RFC 7518 §3.2), got 5"}},
		{"alg without key", func(c *VerifierConfig) { c.Algorithms = []string{"RS256", "EdDSA"} },
			[]string{"Algorithms: EdDSA needs an Ed25519 key"}},
		{"key without alg", func(c *VerifierConfig) { c.PublicKeyFiles = append(c.PublicKeyFiles, ecFile) },
			[]string{"PublicKeyFiles: ", "ec.pem is an ECDSA P-256 key, but no allowed algorithm uses it"}},
		{"unreadable key file", func(c *VerifierConfig) { c.PublicKeyFiles = []string{filepath.Join(dir, "keys.pem")} },
			[]string{"PublicKeyFiles: reading " + filepath.Join(dir, "keys.pem") + ": open"}},
		{"duplicate kid", func(c *VerifierConfig) {
			c.PublicKeyFiles = append(c.PublicKeyFiles, writePEMKey(t, t.TempDir(), "rsa.crt", &k.rsa2.PublicKey))
		}, []string{`PublicKeyFiles: `, `both have kid "rsa"`}},
		{"bad JWKS URL", func(c *VerifierConfig) { c.JWKSURLs = []string{"file:///etc/jwks.json"} },
			[]string{`JWKSURLs: "file:///etc/jwks.json" must be https (http only on loopback)`}},
		{"negative durations and sizes", func(c *VerifierConfig) { c.Leeway, c.MaxTokenSize, c.CacheSize = -1, -1, -1 },
			[]string{"Leeway: must not be negative", "MaxTokenSize: must be at least 1KiB", "CacheSize: must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.modify(&cfg)
			v, err := NewVerifier(context.Background(), cfg)
			if err == nil {
				v.Close()
				t.Fatal("NewVerifier succeeded")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestPublicKeyFileFormats(t *testing.T) {
	k := jwtKeys(t)
	dir := t.TempDir()
	pkixDER, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	cert := selfSignedCert(t)
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	for _, tc := range []struct {
		name, file string
		data       []byte
		wantKID    string
		wantErr    string
	}{
		{"PKIX", "a.pem", block("PUBLIC KEY", pkixDER), "a", ""},
		{"PKCS1", "b.key.pub", block("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), "b.key", ""},
		{"certificate chain", "c.crt", append(block("CERTIFICATE", cert), block("CERTIFICATE", cert)...), "c", ""},
		{"private key", "d.pem", block("PRIVATE KEY", privDER), "", "private key"},
		{"two keys", "e.pem", append(block("PUBLIC KEY", pkixDER), block("PUBLIC KEY", pkixDER)...), "", "more than one key"},
		{"not PEM", "f.pem", []byte("hello"), "", "no PEM public key"},
		{"garbage DER", "g.pem", block("PUBLIC KEY", []byte{1, 2, 3}), "", "parsing PUBLIC KEY"},
		{"other block", "h.pem", block("EC PARAMETERS", []byte{1}), "", "unexpected PEM block"},
		{"weak RSA", "i.pem", block("PUBLIC KEY", smallDER), "", "1024 bits is too small"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := loadPublicKeyFile(writeJWTFile(t, dir, tc.file, tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key.kid != tc.wantKID {
				t.Errorf("kid = %q, want %q", key.kid, tc.wantKID)
			}
		})
	}
}

// selfSignedCert returns the DER of a certificate for the shared P-256 key.
func selfSignedCert(t *testing.T) []byte {
	t.Helper()
	k := jwtKeys(t).p256
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer.test"},
		NotBefore: jwtNow.Add(-time.Hour), NotAfter: jwtNow.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestUnsupportedCurveRefused(t *testing.T) {
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := familyOf(&p521.PublicKey); err == nil || !strings.Contains(err.Error(), "P-521") {
		t.Fatalf("familyOf(P-521) error = %v", err)
	}
}

func TestTokenErrorMatchesErrInvalidToken(t *testing.T) {
	err := invalid("expired")
	if !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevocationUnavailable) {
		t.Errorf("%v: Is(ErrInvalidToken)=%v Is(ErrRevocationUnavailable)=%v", err,
			errors.Is(err, ErrInvalidToken), errors.Is(err, ErrRevocationUnavailable))
	}
	if err.Error() != "invalid token: expired" {
		t.Errorf("Error() = %q", err)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	v.Close()
	v.Close()
	mustAcceptToken(t, v, validRS256(t, nil))
	if err := v.HealthCheck(context.Background()); err != nil {
		t.Errorf("HealthCheck without JWKS = %v", err)
	}
}

// TestNewVerifierDerivesAlgorithms checks an empty allow-list: it accepts
// what the configured keys can verify and nothing else.
func TestNewVerifierDerivesAlgorithms(t *testing.T) {
	k := jwtKeys(t)
	hmacOnly := jwtConfig(t)
	hmacOnly.Algorithms, hmacOnly.PublicKeyFiles = nil, nil
	v := newTestVerifier(t, hmacOnly)
	mustAcceptToken(t, v, signToken(t, jwt.SigningMethodHS384, jwtSecret, tokenClaims(nil), nil))
	mustRefuseToken(t, v, validRS256(t, nil), "")

	rsaOnly := jwtConfig(t)
	rsaOnly.Algorithms, rsaOnly.HMACSecret = nil, nil
	rsaOnly.PublicKeyFiles = rsaOnly.PublicKeyFiles[:1]
	v = newTestVerifier(t, rsaOnly)
	mustAcceptToken(t, v, validRS256(t, nil))
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodHS256, jwtSecret, tokenClaims(nil), nil), "")
	mustRefuseToken(t, v, signToken(t, jwt.SigningMethodES256, k.p256, tokenClaims(nil), map[string]any{"kid": "ec1"}), "")
}
