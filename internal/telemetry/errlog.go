package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/troupehq/troupe/internal/ratelog"
)

// errorLogEvery is the least time between two log lines for one kind of
// export error. An unreachable collector fails every batch; logging each
// failure would bury the service's own logs.
const errorLogEvery = 10 * time.Second

// errorLimiter logs export errors to one Telemetry's logger, at most one line
// per kind per errorLogEvery, and counts the ones it held back. It replaces
// otel.SetErrorHandler for export failures: that handler is process-wide,
// while this one belongs to a single Telemetry.
type errorLimiter struct {
	logger *slog.Logger
	now    func() time.Time // replaced in tests

	mu    sync.Mutex
	kinds map[string]*ratelog.Limiter
}

func newErrorLimiter(logger *slog.Logger) *errorLimiter {
	return &errorLimiter{logger: logger, now: time.Now, kinds: make(map[string]*ratelog.Limiter)}
}

// report logs err as an error of the given kind unless one of that kind was
// logged less than errorLogEvery ago. Kinds are a fixed set (one per
// signal), so the map stays small.
func (l *errorLimiter) report(kind string, err error) {
	if l.logger == nil {
		return
	}
	l.mu.Lock()
	k := l.kinds[kind]
	if k == nil {
		k = ratelog.New(errorLogEvery)
		l.kinds[kind] = k
	}
	l.mu.Unlock()
	ok, suppressed := k.Allow(l.now())
	if !ok {
		return
	}

	l.logger.LogAttrs(context.Background(), slog.LevelWarn, "telemetry export failed",
		slog.String("signal", kind),
		slog.String("error", err.Error()),
		slog.Int("suppressed", suppressed))
}

// loggingSpanExporter reports export errors to the limiter instead of
// returning them. The batch span processor would hand a returned error to
// the process-wide otel error handler, which is exactly what this avoids; a
// failed batch is dropped either way.
type loggingSpanExporter struct {
	sdktrace.SpanExporter
	errs *errorLimiter
}

func (e loggingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.errs.report("traces", err)
	}
	return nil
}

// loggingMetricExporter is loggingSpanExporter for the periodic metric
// reader, which would otherwise pass errors to the global handler too.
type loggingMetricExporter struct {
	sdkmetric.Exporter
	errs *errorLimiter
}

func (e loggingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if err := e.Exporter.Export(ctx, rm); err != nil {
		e.errs.report("metrics", err)
	}
	return nil
}
