// Package middleware holds the pieces of Troupe's request path — panic
// recovery, request IDs, access logging, security headers, CORS, body limits,
// request timeouts and response compression — and Chain, the one place that
// orders them.
//
// Each piece reads like Echo's own middleware: a Config struct with a
// Skipper and documented fields, a Default…Config, a short constructor and a
// …WithConfig constructor that fills in defaults. Every error response a piece
// produces is RFC 9457 problem+json carrying the request ID.
package middleware
