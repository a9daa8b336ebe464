package authz

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// The attack suite: each test is one way real verifiers have been fooled,
// and asserts both the refusal and its logged reason, so a refusal for the
// wrong reason (which could hide a hole) fails too.

func TestAttackAlgNone(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	unsigned := signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, tokenClaims(nil), nil)
	if !strings.HasSuffix(unsigned, ".") {
		t.Fatalf("an alg:none token should have an empty signature: %q", unsigned)
	}
	mustRefuseToken(t, v, unsigned, "signature missing")

	// With a signature segment present the alg itself is what is refused.
	head, payload, _ := strings.Cut(strings.TrimSuffix(unsigned, "."), ".")
	mustRefuseToken(t, v, head+"."+payload+".c2ln", "alg none not allowed")
	for _, alg := range []string{"None", "NONE", "nOnE"} {
		forged := b64url(`{"alg":"`+alg+`","typ":"JWT"}`) + "." + payload + ".c2ln"
		mustRefuseToken(t, v, forged, "unverifiable")
	}
}

func TestAttackKeyConfusionHS256WithRSAPublicKey(t *testing.T) {
	k := jwtKeys(t)
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	forged := signToken(t, jwt.SigningMethodHS256, pemBytes, tokenClaims(nil), map[string]any{"kid": "rsa1"})
	forgedDER := signToken(t, jwt.SigningMethodHS256, der, tokenClaims(nil), map[string]any{"kid": "rsa1"})

	// HS256 allowed alongside RS256: the HMAC family uses only the
	// configured secret, never the RSA key the kid names.
	both := newTestVerifier(t, jwtConfig(t))
	mustRefuseToken(t, both, forged, "bad signature")
	mustRefuseToken(t, both, forgedDER, "bad signature")

	// RS256 only: HS256 is not even considered.
	cfg := jwtConfig(t)
	cfg.Algorithms, cfg.HMACSecret = []string{"RS256", "PS256", "ES256", "EdDSA"}, nil
	rsOnly := newTestVerifier(t, cfg)
	mustRefuseToken(t, rsOnly, forged, "alg HS256 not allowed")

	// The same holds across asymmetric families: an ES256 token naming the
	// RSA key's kid is refused before any signature check.
	es := signToken(t, jwt.SigningMethodES256, k.p256, tokenClaims(nil), map[string]any{"kid": "rsa1"})
	mustRefuseToken(t, both, es, "key type does not match alg ES256")
}

func TestAttackUnknownKid(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	attacker := jwtKeys(t).attackerRSA
	for _, kid := range []string{"rsa2", "", "RSA1", "rsa1 "} {
		tok := signToken(t, jwt.SigningMethodRS256, attacker, tokenClaims(nil), map[string]any{"kid": kid})
		mustRefuseToken(t, v, tok, "unknown kid")
	}
	nonString := signToken(t, jwt.SigningMethodRS256, attacker, tokenClaims(nil), map[string]any{"kid": 1})
	mustRefuseToken(t, v, nonString, "kid is not a string")
}

func TestAttackKidPathTraversal(t *testing.T) {
	cfg := jwtConfig(t)
	v := newTestVerifier(t, cfg)
	attacker := jwtKeys(t).attackerRSA
	rsaPath := cfg.PublicKeyFiles[0] // .../rsa1.pem: a real file holding a trusted key
	for _, kid := range []string{
		"../../../../../../etc/passwd", "/dev/null", rsaPath, "./rsa1", "rsa1.pem", "../rsa1",
		"rsa1/../rsa1", "..%2frsa1", "rsa1\x00",
	} {
		t.Run(fmt.Sprintf("%q", kid), func(t *testing.T) {
			tok := signToken(t, jwt.SigningMethodRS256, attacker, tokenClaims(nil), map[string]any{"kid": kid})
			mustRefuseToken(t, v, tok, "unknown kid")
		})
	}
	// The classic: HS256 "signed" with the contents of /dev/null (empty).
	empty := signToken(t, jwt.SigningMethodHS256, []byte{}, tokenClaims(nil), map[string]any{"kid": "../../../../dev/null"})
	mustRefuseToken(t, v, empty, "bad signature")
}

func TestAttackJkuX5uIgnored(t *testing.T) {
	attacker := jwtKeys(t).attackerRSA
	jwk, err := jwkset.NewJWKFromKey(&attacker.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "evil"}})
	if err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`{"keys":[%s]}`, mustJSON(t, jwk.Marshal()))
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc))
	}))
	defer srv.Close()

	v := newTestVerifier(t, jwtConfig(t))
	for _, header := range []map[string]any{
		{"kid": "evil", "jku": srv.URL},
		{"kid": "evil", "x5u": srv.URL},
		{"kid": "evil", "jwk": jwk.Marshal()},
		{"jku": srv.URL, "x5u": srv.URL, "jwk": jwk.Marshal(), "x5c": []string{"MIIB"}},
		{"kid": "rsa1", "jku": srv.URL, "x5u": srv.URL},
	} {
		tok := signToken(t, jwt.SigningMethodRS256, attacker, tokenClaims(nil), header)
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("token with header %v accepted", header)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's URL was fetched %d times; jku/x5u must never be fetched", n)
	}
}

func TestAttackExpired(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t)) // leeway 30s
	for _, tc := range []struct {
		name string
		exp  any
		want string // "" = accepted
	}{
		{"an hour ago", jwtNow.Add(-time.Hour).Unix(), "expired"},
		{"beyond leeway", jwtNow.Add(-31 * time.Second).Unix(), "expired"},
		{"exactly at exp+leeway", jwtNow.Add(-30 * time.Second).Unix(), "expired"},
		{"within leeway", jwtNow.Add(-29 * time.Second).Unix(), ""},
		{"missing", nil, "missing exp"},
		{"a string", "tomorrow", "claim of the wrong type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tokenClaims(nil)
			if tc.exp == nil {
				delete(c, "exp")
			} else {
				c["exp"] = tc.exp
			}
			tok := signToken(t, jwt.SigningMethodRS256, jwtKeys(t).rsa, c, map[string]any{"kid": "rsa1"})
			if tc.want == "" {
				mustAcceptToken(t, v, tok)
				return
			}
			mustRefuseToken(t, v, tok, tc.want)
		})
	}
}

func TestAttackNotYetValid(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	for _, tc := range []struct {
		name  string
		claim string
		at    time.Time
		want  string
	}{
		{"nbf in an hour", "nbf", jwtNow.Add(time.Hour), "not valid yet"},
		{"nbf beyond leeway", "nbf", jwtNow.Add(31 * time.Second), "not valid yet"},
		{"nbf within leeway", "nbf", jwtNow.Add(29 * time.Second), ""},
		{"iat in the future", "iat", jwtNow.Add(time.Hour), "issued in the future"},
		{"iat within leeway", "iat", jwtNow.Add(29 * time.Second), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := validRS256(t, map[string]any{tc.claim: tc.at.Unix()})
			if tc.want == "" {
				mustAcceptToken(t, v, tok)
				return
			}
			mustRefuseToken(t, v, tok, tc.want)
		})
	}
}

func TestAttackWrongIssuer(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	for _, iss := range []any{"https://evil.test", jwtIssuer + "/", strings.ToUpper(jwtIssuer), []string{jwtIssuer}, ""} {
		mustRefuseToken(t, v, validRS256(t, map[string]any{"iss": iss}), "")
	}
	mustRefuseToken(t, v, validRS256(t, map[string]any{"iss": "https://evil.test"}), "wrong issuer")
	mustRefuseToken(t, v, validRS256(t, map[string]any{"iss": nil}), "missing iss")
}

func TestAttackWrongAudience(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	for _, tc := range []struct {
		aud  any
		want string
	}{
		{"other-api", "wrong audience"},
		{[]string{"a", "b"}, "wrong audience"},
		{nil, "missing aud"},
		{[]string{}, "empty iss or aud"},
		{jwtAudience + " ", "wrong audience"},
		{[]string{"other-api", jwtAudience}, ""},
		{[]string{jwtAudience}, ""},
	} {
		t.Run(fmt.Sprint(tc.aud), func(t *testing.T) {
			tok := validRS256(t, map[string]any{"aud": tc.aud}) // nil deletes aud
			if tc.want == "" {
				mustAcceptToken(t, v, tok)
				return
			}
			mustRefuseToken(t, v, tok, tc.want)
		})
	}
}

func TestAttackMissingRequiredClaim(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.RequiredClaims = []string{"tenant"}
	v := newTestVerifier(t, cfg)
	mustRefuseToken(t, v, validRS256(t, nil), "missing required claim tenant")
	mustAcceptToken(t, v, validRS256(t, map[string]any{"tenant": "acme"}))
	// sub is always required: a principal without a subject is no one.
	mustRefuseToken(t, v, validRS256(t, map[string]any{"tenant": "acme", "sub": nil}), "missing sub")
	mustRefuseToken(t, v, validRS256(t, map[string]any{"tenant": "acme", "sub": ""}), "missing sub")
	mustRefuseToken(t, v, validRS256(t, map[string]any{"tenant": "acme", "sub": 42}), "missing sub")
}

func TestAttackUnknownCrit(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	for _, crit := range []any{[]string{"exp"}, []string{"b64"}, []string{}, "x"} {
		tok := signToken(t, jwt.SigningMethodRS256, jwtKeys(t).rsa, tokenClaims(nil), map[string]any{"kid": "rsa1", "crit": crit})
		mustRefuseToken(t, v, tok, "crit header present")
	}
}

func TestAttackOversizedToken(t *testing.T) {
	cfg := jwtConfig(t)
	cfg.MaxTokenSize = 2048
	v := newTestVerifier(t, cfg)
	big := validRS256(t, map[string]any{"pad": strings.Repeat("x", 2048)})
	mustRefuseToken(t, v, big, "larger than max_token_size")
	mustRefuseToken(t, v, strings.Repeat("a", 10<<20), "larger than max_token_size")
	mustAcceptToken(t, v, validRS256(t, nil))

	def := newTestVerifier(t, jwtConfig(t)) // DefaultMaxTokenSize
	mustRefuseToken(t, def, validRS256(t, map[string]any{"pad": strings.Repeat("x", DefaultMaxTokenSize)}), "larger than max_token_size")
}

func TestAttackBadBase64(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	head, payload, sig := splitToken(t, validRS256(t, nil))
	std := func(s string) string { return strings.NewReplacer("-", "+", "_", "/").Replace(s) }
	for name, tok := range map[string]string{
		"padding in header":      head + "==." + payload + "." + sig,
		"padding in signature":   head + "." + payload + "." + sig + "=",
		"standard alphabet":      std(head + "." + payload + "." + sig + "+/"),
		"percent-encoded":        head + "." + payload + "%3D." + sig,
		"space inside":           head[:5] + " " + head[5:] + "." + payload + "." + sig,
		"wrong signature length": head + "." + payload + "." + sig + "AA",
		"non-canonical last bit": head + "." + payload + "." + flipLastBits(sig),
		"header not JSON":        b64url("not json") + "." + payload + "." + sig,
		"empty header":           "." + payload + "." + sig,
		"empty payload":          head + ".." + sig,
	} {
		t.Run(name, func(t *testing.T) { mustRefuseToken(t, v, tok, "") })
	}
	mustRefuseToken(t, v, head+"=."+payload+"."+sig, "not base64url")
	mustRefuseToken(t, v, b64url("not json")+"."+payload+"."+sig, "malformed")
}

func TestAttackTrailingGarbage(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	tok := validRS256(t, nil)
	for name, bad := range map[string]string{
		"extra dot":           tok + ".",
		"fourth segment":      tok + ".e30",
		"appended characters": tok + "AAAA",
		"newline":             tok + "\n",
		"CRLF inside":         strings.Replace(tok, ".", ".\r\n", 1),
		"space and word":      tok + " x",
		"NUL":                 tok + "\x00",
	} {
		t.Run(name, func(t *testing.T) { mustRefuseToken(t, v, bad, "") })
	}
	mustRefuseToken(t, v, tok+".e30", "want 3 segments")
	mustRefuseToken(t, v, tok+"\n", "not base64url")

	// Trailing bytes after the JSON inside a correctly signed payload.
	head, _, _ := splitToken(t, tok)
	body := b64url(`{"iss":"` + jwtIssuer + `","aud":"` + jwtAudience + `","sub":"alice","exp":` +
		fmt.Sprint(jwtNow.Add(time.Hour).Unix()) + `,"jti":"j"} {"sub":"admin"}`)
	sig, err := jwt.SigningMethodRS256.Sign(head+"."+body, jwtKeys(t).rsa)
	if err != nil {
		t.Fatal(err)
	}
	mustRefuseToken(t, v, head+"."+body+"."+b64url(string(sig)), "malformed")
}

func TestAttackSignatureStripped(t *testing.T) {
	v := newTestVerifier(t, jwtConfig(t))
	tok := validRS256(t, nil)
	head, payload, sig := splitToken(t, tok)
	mustRefuseToken(t, v, head+"."+payload+".", "signature missing")
	mustRefuseToken(t, v, head+"."+payload, "want 3 segments")
	mustRefuseToken(t, v, head+"."+payload+"."+sig[:len(sig)-2], "bad signature")

	// A valid signature from another token, and this token with its
	// claims swapped under the original signature.
	_, _, otherSig := splitToken(t, validRS256(t, map[string]any{"sub": "bob"}))
	mustRefuseToken(t, v, head+"."+payload+"."+otherSig, "bad signature")
	_, adminPayload, _ := splitToken(t, validRS256(t, map[string]any{"sub": "admin"}))
	mustRefuseToken(t, v, head+"."+adminPayload+"."+sig, "bad signature")
}

// splitToken returns the three segments of a compact JWS.
func splitToken(t *testing.T, tok string) (head, payload, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	return parts[0], parts[1], parts[2]
}

// flipLastBits changes the unused low bits of the last base64url character
// of s (a 256-byte RSA signature leaves 4 of them), which a lax decoder
// ignores and a strict one refuses.
func flipLastBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}
