package telemetry_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/internal/telemetry"
)

func ExampleSetup() {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "orders", Prometheus: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tel.Shutdown(ctx)

	// A subsystem builds its instruments from the provider it is given.
	decisions, _ := telemetry.Meter(tel.MeterProvider()).Int64Counter(telemetry.MetricRateLimitDecisions)
	decisions.Add(ctx, 1, metric.WithAttributes(
		telemetry.KeyRoute.String("/api/v1/orders/:id"), telemetry.KeyRateLimitKind.String("ip"),
		telemetry.KeyRateLimitStore.String("memory"), telemetry.KeyDecision.String("rejected")))

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "troupe_ratelimit_decisions_total{") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// troupe_ratelimit_decisions_total{http_route="/api/v1/orders/:id",otel_scope_name="github.com/troupehq/troupe",otel_scope_schema_url="",otel_scope_version="0.1.0",troupe_decision="rejected",troupe_ratelimit_key_kind="ip",troupe_ratelimit_store="memory"} 1
}

func ExampleNewLogHandler() {
	base := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the time so the output is reproducible.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	logger := slog.New(telemetry.NewLogHandler(base, []string{"password"}))

	// A request context as the middleware leaves it: a span and a request ID.
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	ctx = reqinfo.NewContext(ctx, &reqinfo.Info{ID: "01JD3"})

	logger.InfoContext(ctx, "user signed up", "user", "ann", "password", "hunter2")
	// Output:
	// {"level":"INFO","msg":"user signed up","user":"ann","password":"[REDACTED]","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","request_id":"01JD3"}
}
