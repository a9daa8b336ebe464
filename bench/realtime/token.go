package main

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Both servers check the same HS256 tokens. The secret guards nothing but
// this benchmark's loopback servers.
const (
	jwtSecret   = "troupe-realtime-benchmark-hs256-secret"
	jwtIssuer   = "troupe-realtime-bench"
	jwtAudience = "realtime"
)

// token is client i's bearer token: a principal of its own, so no cache
// of verified tokens or decisions serves one connection from another's.
func token(i int) (string, error) {
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": jwtIssuer, "aud": jwtAudience, "sub": fmt.Sprintf("client-%d", i),
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
	}).SignedString([]byte(jwtSecret))
	if err != nil {
		return "", fmt.Errorf("signing client %d's token: %w", i, err)
	}
	return "Bearer " + tok, nil
}

// tokens returns the tokens of clients 0 to n-1.
func tokens(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		var err error
		if out[i], err = token(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// verify checks a bearer token as Troupe's JWT settings do: HS256 only,
// issuer, audience and expiry, and returns its subject.
func verify(header string) (string, error) {
	raw, ok := cutBearer(header)
	if !ok {
		return "", fmt.Errorf("no bearer token")
	}
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return []byte(jwtSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(jwtIssuer), jwt.WithAudience(jwtAudience),
		jwt.WithExpirationRequired())
	if err != nil {
		return "", err
	}
	return tok.Claims.GetSubject()
}

func cutBearer(h string) (string, bool) {
	const prefix = "Bearer "
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	return h[len(prefix):], true
}
