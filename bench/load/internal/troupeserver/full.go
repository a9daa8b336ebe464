package troupeserver

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/troupehq/troupe/bench/load/internal/loadserver"
)

// The full service's JWT settings. The secret guards nothing but this
// benchmark's loopback server.
const (
	secret   = "troupe-load-benchmark-hs256-secret"
	issuer   = "troupe-load"
	audience = "load"
	// rpm is every rate limit of the full service: far above any load one
	// machine can generate (60 M requests a minute), so limits are decided on
	// every request and never refuse one.
	rpm = 60_000_000
	// bulkhead admits many more requests at once than any run's
	// connections, so the bulkhead is passed through, never waited on.
	bulkhead = 1024
)

// policy permits the one route, so every request takes a Cedar decision
// (cached after the first per principal) and passes.
const policy = `permit (principal, action == Action::"GET ` + loadserver.Path + `", resource);` + "\n"

// Full turns on everything the "Troupe full" row lists on top of the
// defaults: JWT HS256 (the verified-token cache is on by default), Cedar
// (the decision cache is on by default), memory rate limits per IP, user and
// client, the inbound breaker, and a bulkhead. Every request must then carry
// Authorization.
func Full(dir string) ([]string, error) {
	path := filepath.Join(dir, "policy.cedar")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		return nil, err
	}
	limit := fmt.Sprint(rpm)
	return []string{
		"AUTH__JWT__HMAC_SECRET=" + secret,
		"AUTH__JWT__ISSUER=" + issuer,
		"AUTH__JWT__AUDIENCE=" + audience,
		"AUTH__CEDAR__POLICIES=" + path,
		"RATE_LIMIT__ENABLED=true",
		"RATE_LIMIT__STORE=memory",
		"RATE_LIMIT__PER_IP_RPM=" + limit,
		"RATE_LIMIT__PER_USER_RPM=" + limit,
		"RATE_LIMIT__PER_CLIENT_RPM=" + limit,
		"RESILIENCE__BREAKER__ENABLED=true",
		"RESILIENCE__BULKHEAD__MAX_CONCURRENT=" + fmt.Sprint(bulkhead),
	}, nil
}

// Authorization returns the Authorization header of client i for the full
// service: a bearer token of a principal of its own (subject
// "client-<i>"), so the token cache, the decision cache and the per-user
// rate limits hold one entry per client, as they would for distinct users.
func Authorization(client int) (string, error) {
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": fmt.Sprintf("client-%d", client),
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("signing client %d's token: %w", client, err)
	}
	return "Bearer " + tok, nil
}
