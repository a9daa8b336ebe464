// Package telemetry is Troupe's observability engine room: it builds the
// OpenTelemetry tracer and meter providers from a Config (OTLP push over gRPC
// or HTTP, a Prometheus pull endpoint, or nothing at all), hands subsystems
// small typed instrument sets so they record metrics without importing the
// SDK, correlates slog records with the active trace and request, and wraps
// outbound HTTP clients so trace context crosses service boundaries.
//
// Nothing here reads the environment or touches OpenTelemetry's global
// providers: the service maps config keys and OTEL_* variables onto Config,
// and passes the resulting providers to whoever needs them. Two services in
// one process (as in tests) therefore never see each other's telemetry.
//
// Metric names live in names.go and nowhere else; docs/observability.md lists
// the same names and a test keeps the two in step.
package telemetry
