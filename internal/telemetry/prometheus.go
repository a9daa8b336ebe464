package telemetry

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// newPrometheus builds a private registry, fed by an OTel Prometheus reader
// plus the Go runtime and process collectors, and the handler that serves
// it; producer adds Troupe's own histograms. A private registry keeps two Telemetry values in one process (tests,
// embedded services) from colliding on prometheus.DefaultRegisterer.
//
// Metric names follow the exporter's default translation: dots become
// underscores, counters gain _total and units a suffix, so
// troupe.actor.processing.duration (unit s) is scraped as
// troupe_actor_processing_duration_seconds.
func newPrometheus(producer sdkmetric.Producer) (sdkmetric.Reader, http.Handler, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, nil, fmt.Errorf("telemetry: prometheus: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, nil, fmt.Errorf("telemetry: prometheus: %w", err)
	}
	reader, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithProducer(producer))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("telemetry: prometheus: %w", err)
	}
	handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector failing must not take the whole scrape down.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	})
	return reader, handler, reg, nil
}
