// Package middleware holds the pieces of Troupe's request path — panic
// recovery, request IDs, access logging, security headers, CORS, body limits,
// request timeouts, response compression and telemetry — and Chain, the one
// place that orders them.
//
// Each piece reads like Echo's own middleware: a Config struct with a
// Skipper and documented fields, a Default…Config equal to the defaults of
// the matching config keys, a Validate method, a short constructor and a
// …WithConfig constructor that fills in defaults. Every error response a
// piece produces is RFC 9457 problem+json carrying the request ID.
//
// The pieces decide on net/http types and the request's reqinfo.Info, never
// on echo.Context: echo.go adapts them to Echo (and holds ErrorHandler),
// chain.go orders them, and no other file imports Echo.
package middleware
