package telemetry

import (
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// HTTPTransport wraps base so that every outbound request gets a client span
// and http.client.* metrics from this Telemetry's providers, and carries the
// trace context in its headers. It never uses the OpenTelemetry globals. A
// nil base means http.DefaultTransport.
func (t *Telemetry) HTTPTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.TracerProvider()),
		otelhttp.WithMeterProvider(t.MeterProvider()),
		otelhttp.WithPropagators(t.Propagator()),
	)
}

// HTTPClient returns a client whose transport is HTTPTransport(nil) and whose
// whole-request timeout is timeout (zero means none, as in http.Client).
func (t *Telemetry) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: t.HTTPTransport(nil), Timeout: timeout}
}
