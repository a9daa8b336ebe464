package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/troupehq/troupe/middleware"
)

// ExampleTelemetryWithConfig traces and measures two requests to one route
// and one to no route: spans are named after the route template, and the
// two notes share one metric series whatever their IDs.
func ExampleTelemetryWithConfig() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	e := echo.New()
	e.Use(middleware.Chain(middleware.Stages{
		RequestID: middleware.RequestID(),
		Telemetry: middleware.TelemetryWithConfig(middleware.TelemetryConfig{TracerProvider: tp, MeterProvider: mp}),
	}))
	e.GET("/notes/:id", func(c echo.Context) error { return c.String(http.StatusOK, "a note") })
	for _, path := range []string{"/notes/1", "/notes/2", "/missing"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}

	for _, s := range spans.Ended() {
		fmt.Println("span:", s.Name())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	var series []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			for _, dp := range h.DataPoints {
				series = append(series, fmt.Sprintf("%s{%s} count=%d", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Count))
			}
		}
	}
	slices.Sort(series)
	for _, s := range series {
		fmt.Println(s)
	}
	// Output:
	// span: GET /notes/:id
	// span: GET /notes/:id
	// span: GET
	// http.server.request.duration{http.request.method=GET,http.response.status_class=2xx,http.route=/notes/:id} count=2
	// http.server.request.duration{http.request.method=GET,http.response.status_class=4xx} count=1
}
