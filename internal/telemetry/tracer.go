package telemetry

import (
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every span and instrument Troupe
// creates itself, so a backend can tell framework telemetry from the
// application's.
const ScopeName = "github.com/troupehq/troupe"

// ScopeVersion is the version reported with ScopeName.
const ScopeVersion = "0.1.0"

// Tracer returns the tracer all Troupe subsystems start spans from, under
// one instrumentation scope. A nil tp yields a noop tracer.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return tp.Tracer(ScopeName, trace.WithInstrumentationVersion(ScopeVersion))
}
