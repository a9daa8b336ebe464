// Package authz authenticates requests by JWT and authorizes them with Cedar
// policies, failing closed at every step.
//
// Authentication: a [Verifier] checks a bearer token's signature against an
// allow-list of algorithms, each bound to the type of its key (so an HS256
// token is never checked with an RSA public key), keys from PEM files, an
// HMAC secret or JWK Sets refreshed in the background; then iss, aud, exp,
// nbf and iat with leeway, required claims, a size limit, and optionally a
// revocation store ([MemoryRevocationStore], [RedisRevocationStore]) keyed by
// jti. Verified tokens are cached by their SHA-256 until they expire;
// revocation is checked on every request. The [Authenticate] stage answers
// 401 with an RFC 6750 challenge and never says which check failed; the
// reason is logged. The result is a [Principal] (subject, kind, roles,
// scopes, claims), found with [FromContext].
//
// Authorization: a [PolicyStore] holds Cedar policies from a file or
// directory, reloaded atomically when they change (a reload that fails keeps
// the old set). The [Authorize] stage maps each request onto a Cedar request —
// principal User::"<sub>" or Client::"<sub>" in Role::"<role>", action
// Action::"<METHOD> <route template>", resource Route::"<template>" or, for
// routes that name one, Note::"<id>" with attributes from an
// [EntityProvider], context {ip, time, api_version, method, path} — and
// answers 403 on anything but an allow: no permit, a forbid, an evaluation
// error, an entity that cannot be loaded. Decisions are cached when they can
// be reused exactly.
//
// Services get both from config (auth.* keys) through the service builder;
// docs/auth.md is the guide. Each config has a Default value equal to its
// keys' defaults and a Validate method naming the field of each problem.
// Only echo.go imports Echo: the stages decide on net/http types and
// Troupe's own, so another router needs only another adapter.
package authz
