package authz

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
)

// keyFamily is the kind of key an algorithm verifies with. Matching the
// token's alg to the key's family, not merely to the allow-list, is what
// defeats key confusion: an HS256 token is never checked against an RSA
// public key, an ES256 token never against a P-384 key.
type keyFamily uint8

const (
	familyNone keyFamily = iota
	familyHMAC
	familyRSA
	familyP256
	familyP384
	familyEd25519
	familyCount
)

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-57).
const minRSABits = 2048

// Algorithms are the JWS algorithms a Verifier can check, the values
// VerifierConfig.Algorithms (auth.jwt.algorithms) may list. "none" is not
// one of them and cannot be made one: what a Verifier accepts is decided by
// its own table, never by this list, which is for messages and docs.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512"}

// algFamilies is the closed set of supported algorithms. "none" is absent on
// purpose and cannot be added through configuration.
var algFamilies = map[string]keyFamily{
	"HS256": familyHMAC, "HS384": familyHMAC, "HS512": familyHMAC,
	"RS256": familyRSA, "RS384": familyRSA, "RS512": familyRSA, "PS256": familyRSA,
	"ES256": familyP256, "ES384": familyP384,
	"EdDSA": familyEd25519,
}

// String names the family in error messages.
func (f keyFamily) String() string {
	switch f {
	case familyHMAC:
		return "HMAC secret"
	case familyRSA:
		return "RSA key"
	case familyP256:
		return "ECDSA P-256 key"
	case familyP384:
		return "ECDSA P-384 key"
	case familyEd25519:
		return "Ed25519 key"
	}
	return "unsupported key"
}

// verificationKey is one key a token may be verified with.
type verificationKey struct {
	kid    string    // "" when the key has no id
	family keyFamily //
	alg    string    // the JWK's alg restriction; "" allows any alg of the family
	key    any       // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	source string    // where the key came from, for logs
}

// familyOf classifies a public key, rejecting types and sizes Troupe does
// not verify with.
func familyOf(pub crypto.PublicKey) (keyFamily, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return familyNone, fmt.Errorf("RSA key of %d bits is too small (minimum %d)", k.N.BitLen(), minRSABits)
		}
		return familyRSA, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return familyP256, nil
		case elliptic.P384():
			return familyP384, nil
		}
		return familyNone, fmt.Errorf("ECDSA curve %s is not supported (P-256 or P-384)", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return familyEd25519, nil
	}
	return familyNone, fmt.Errorf("key type %T is not supported", pub)
}

// keySet is an immutable snapshot of every key the verifier trusts. A new
// snapshot replaces the old one atomically when a JWKS refresh changes it.
type keySet struct {
	byKID    map[string]*verificationKey
	byFamily [familyCount][]*verificationKey
}

// newKeySet indexes keys. Earlier keys win a kid clash, so static keys
// (passed first) cannot be shadowed by a JWKS document.
func newKeySet(keys []*verificationKey) *keySet {
	s := &keySet{byKID: make(map[string]*verificationKey, len(keys))}
	for _, k := range keys {
		if k.kid != "" {
			if _, dup := s.byKID[k.kid]; dup {
				continue
			}
			s.byKID[k.kid] = k
		}
		s.byFamily[k.family] = append(s.byFamily[k.family], k)
	}
	return s
}

// keyLookup is why a key could not be chosen.
type keyLookup uint8

const (
	keyFound keyLookup = iota
	keyUnknownKID
	keyNoneOfFamily
	keyAmbiguous
	keyWrongType
)

// lookup picks the key for a token with algorithm alg and, when hasKID,
// header kid. The kid is an opaque map key, never a path or URL. HMAC
// tokens always use the one configured secret (kid ignored); symmetric keys
// never come from a JWKS document. Without a kid the single key of the
// alg's family is used; with several, a kid is required rather than trying
// each, so a token cannot be replayed against whichever key happens to fit.
func (s *keySet) lookup(alg, kid string, hasKID bool) (*verificationKey, keyLookup) {
	family := algFamilies[alg]
	if family == familyHMAC || !hasKID {
		switch keys := s.byFamily[family]; len(keys) {
		case 0:
			return nil, keyNoneOfFamily
		case 1:
			return matchAlg(keys[0], alg)
		default:
			return nil, keyAmbiguous
		}
	}
	k, ok := s.byKID[kid]
	if !ok {
		return nil, keyUnknownKID
	}
	if k.family != family {
		return nil, keyWrongType
	}
	return matchAlg(k, alg)
}

// matchAlg enforces a JWK's own alg restriction.
func matchAlg(k *verificationKey, alg string) (*verificationKey, keyLookup) {
	if k.alg != "" && k.alg != alg {
		return nil, keyWrongType
	}
	return k, keyFound
}

// contains reports whether s holds a key equal to k under the same kid.
func (s *keySet) contains(k *verificationKey) bool {
	for _, other := range s.byFamily[k.family] {
		if other.kid == k.kid && keysEqual(other.key, k.key) {
			return true
		}
	}
	return false
}

// keysEqual compares two public keys of the same family.
func keysEqual(a, b any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if sa, ok := a.([]byte); ok {
		sb, ok := b.([]byte)
		return ok && subtle.ConstantTimeCompare(sa, sb) == 1
	}
	if ea, ok := a.(equaler); ok {
		return ea.Equal(b)
	}
	return false
}
