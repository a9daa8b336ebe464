package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

const (
	testTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	testSpanID  = "00f067aa0ba902b7"
)

// telemetryHarness is an Echo server behind recover → request ID →
// telemetry, recording spans and metrics in memory.
type telemetryHarness struct {
	e      *echo.Echo
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	// handlerSpan is the span context the last handler saw in its context.
	handlerSpan trace.SpanContext
}

func newTelemetryHarness(t *testing.T, sampler sdktrace.Sampler) *telemetryHarness {
	t.Helper()
	h := &telemetryHarness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	logger := slog.New(slog.DiscardHandler)
	h.e = echo.New()
	h.e.HTTPErrorHandler = ErrorHandler(logger)
	h.e.Use(Chain(Stages{
		Recover:   RecoverWithConfig(RecoverConfig{Logger: logger}),
		RequestID: RequestID(),
		Telemetry: TelemetryWithConfig(TelemetryConfig{TracerProvider: tp, MeterProvider: mp, ServerName: "notes.example"}),
	}))
	versioned := func(c echo.Context) error {
		// What the versioning group does inside the route.
		reqinfo.FromContext(c.Request().Context()).APIVersion = "v2"
		h.handlerSpan = trace.SpanContextFromContext(c.Request().Context())
		return c.String(http.StatusOK, "note "+c.Param("id"))
	}
	h.e.GET("/api/v2/notes/:id", versioned)
	h.e.GET("/fail", func(echo.Context) error { return errors.New("database on fire") })
	h.e.GET("/unavailable", func(echo.Context) error {
		return problem.NewError(http.StatusServiceUnavailable, "Shedding load.")
	})
	h.e.GET("/forbidden", func(echo.Context) error {
		return problem.NewError(http.StatusForbidden, "Not yours.")
	})
	h.e.GET("/panic", func(echo.Context) error { panic("handler bug") })
	h.e.POST("/upload", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, strings.ToUpper(string(b)))
	})
	return h
}

func (h *telemetryHarness) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.e.ServeHTTP(w, r)
	return w
}

func (h *telemetryHarness) get(path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return h.do(r)
}

// onlySpan returns the one ended span, failing unless there is exactly one.
func (h *telemetryHarness) onlySpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := h.spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	return ended[0]
}

// metric returns the named metric from one collection, failing when absent.
func (h *telemetryHarness) metric(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	t.Fatalf("no metric %q", name)
	return nil
}

func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestTelemetrySpanUsesRouteTemplate(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.AlwaysSample())
	w := h.get("/api/v2/notes/42", "User-Agent", "notes-cli/1.0")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	s := h.onlySpan(t)
	if s.Name() != "GET /api/v2/notes/:id" {
		t.Errorf("name %q", s.Name())
	}
	if s.SpanKind() != trace.SpanKindServer {
		t.Errorf("kind %v", s.SpanKind())
	}
	if s.Status().Code != codes.Unset {
		t.Errorf("status %v", s.Status())
	}
	got := attrs(s.Attributes())
	want := map[attribute.Key]string{
		"http.request.method":      "GET",
		"http.route":               "/api/v2/notes/:id",
		"url.path":                 "/api/v2/notes/42",
		"url.scheme":               "http",
		"server.address":           "notes.example",
		"client.address":           "192.0.2.1",
		"user_agent.original":      "notes-cli/1.0",
		"network.protocol.version": "1.1",
		"troupe.api.version":       "v2",
		"troupe.request.id":        w.Header().Get(HeaderRequestID),
	}
	for k, v := range want {
		if got[k].String() != v {
			t.Errorf("%s = %q, want %q", k, got[k].String(), v)
		}
	}
	if got["http.response.status_code"].AsInt64() != http.StatusOK {
		t.Errorf("http.response.status_code = %v", got["http.response.status_code"].String())
	}
	if got["http.response.body.size"].AsInt64() != int64(len("note 42")) {
		t.Errorf("http.response.body.size = %v", got["http.response.body.size"].String())
	}
	if _, ok := got["error.type"]; ok {
		t.Error("error.type set on a 200")
	}
	if !h.handlerSpan.Equal(s.SpanContext()) {
		t.Errorf("handler saw span %v, want %v", h.handlerSpan, s.SpanContext())
	}
}

func TestTelemetryContinuesIncomingTrace(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.ParentBased(sdktrace.NeverSample()))
	h.get("/api/v2/notes/1", "Traceparent", "00-"+testTraceID+"-"+testSpanID+"-01")
	s := h.onlySpan(t)
	if got := s.SpanContext().TraceID().String(); got != testTraceID {
		t.Errorf("trace ID %s, want %s", got, testTraceID)
	}
	if got := s.Parent().SpanID().String(); got != testSpanID || !s.Parent().IsRemote() {
		t.Errorf("parent %s (remote %v), want remote %s", got, s.Parent().IsRemote(), testSpanID)
	}
}

func TestTelemetryIgnoresMalformedTraceparent(t *testing.T) {
	for _, tp := range []string{
		"garbage",
		"00-" + testTraceID + "-" + testSpanID, // no flags
		"00-00000000000000000000000000000000-" + testSpanID + "-01",     // zero trace ID
		"00-" + testTraceID + "-0000000000000000-01",                    // zero span ID
		"ff-" + testTraceID + "-" + testSpanID + "-01",                  // forbidden version
		"00-" + strings.ToUpper(testTraceID) + "-" + testSpanID + "-01", // upper case
		"00-" + testTraceID + "-" + testSpanID + "-01-extra",
	} {
		t.Run(tp, func(t *testing.T) {
			h := newTelemetryHarness(t, sdktrace.AlwaysSample())
			if w := h.get("/api/v2/notes/1", "Traceparent", tp); w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			s := h.onlySpan(t)
			if s.Parent().IsValid() {
				t.Errorf("parent %v taken from a malformed traceparent", s.Parent())
			}
			if !s.SpanContext().TraceID().IsValid() || s.SpanContext().TraceID().String() == testTraceID {
				t.Errorf("trace ID %s, want a new one", s.SpanContext().TraceID())
			}
		})
	}
}

func TestTelemetryStatus(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		name         string
		code         codes.Code
		errorType    string // "" when none
	}{
		{http.MethodGet, "/fail", 500, "GET /fail", codes.Error, "500"},
		{http.MethodGet, "/unavailable", 503, "GET /unavailable", codes.Error, "503"},
		{http.MethodGet, "/forbidden", 403, "GET /forbidden", codes.Unset, ""},
		{http.MethodGet, "/no/such/route", 404, "GET", codes.Unset, ""},
		{http.MethodPost, "/api/v2/notes/7", 405, "POST", codes.Unset, ""},
		{"BREW", "/api/v2/notes/7", 405, "HTTP", codes.Unset, ""},
		{http.MethodGet, "/panic", 500, "GET /panic", codes.Error, "panic"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			h := newTelemetryHarness(t, sdktrace.AlwaysSample())
			w := h.do(httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			s := h.onlySpan(t)
			if s.Name() != tt.name {
				t.Errorf("name %q, want %q", s.Name(), tt.name)
			}
			if s.Status().Code != tt.code {
				t.Errorf("span status %v, want %v", s.Status().Code, tt.code)
			}
			got := attrs(s.Attributes())
			if got["http.response.status_code"].AsInt64() != int64(tt.status) {
				t.Errorf("http.response.status_code %v", got["http.response.status_code"].String())
			}
			et, ok := got["error.type"]
			if ok != (tt.errorType != "") || (ok && et.String() != tt.errorType) {
				t.Errorf("error.type %q (set %v), want %q", et.String(), ok, tt.errorType)
			}
			if !strings.Contains(tt.name, "/") {
				if _, ok := got["http.route"]; ok {
					t.Errorf("http.route %q on an unmatched request", got["http.route"].String())
				}
			}
		})
	}
}

func TestTelemetryUnknownMethodIsOther(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.AlwaysSample())
	h.do(httptest.NewRequest("BREW", "/api/v2/notes/7", nil))
	got := attrs(h.onlySpan(t).Attributes())
	if got["http.request.method"].String() != "_OTHER" || got["http.request.method_original"].String() != "BREW" {
		t.Errorf("method %q, original %q", got["http.request.method"].String(), got["http.request.method_original"].String())
	}
	hist := h.metric(t, "http.server.request.duration").(metricdata.Histogram[float64])
	for _, dp := range hist.DataPoints {
		if v, _ := dp.Attributes.Value("http.request.method"); v.String() != "_OTHER" {
			t.Errorf("method label %q", v.String())
		}
	}
}

func TestTelemetryPanicEndsSpanAndRequest(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.AlwaysSample())
	if w := h.get("/panic"); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
	if s := h.onlySpan(t); s.Status().Code != codes.Error || s.Status().Description != "panic" {
		t.Errorf("span status %+v", s.Status())
	}
	active := h.metric(t, "http.server.active_requests").(metricdata.Sum[int64])
	for _, dp := range active.DataPoints {
		if dp.Value != 0 {
			t.Errorf("active requests %d after a panic", dp.Value)
		}
	}
	hist := h.metric(t, "http.server.request.duration").(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 1 {
		t.Fatalf("%d duration series", len(hist.DataPoints))
	}
	if v, _ := hist.DataPoints[0].Attributes.Value("http.response.status_class"); v.String() != "5xx" {
		t.Errorf("status class %q", v.String())
	}
}

// TestTelemetryRendersErrorOnce pins that an error returned from inside is
// handed to Echo's error handler exactly once, whichever stage renders it.
func TestTelemetryRendersErrorOnce(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	e := echo.New()
	calls := 0
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		calls++
		_ = c.NoContent(http.StatusTeapot)
	}
	e.Use(TelemetryWithConfig(TelemetryConfig{TracerProvider: tp}))
	e.GET("/", func(echo.Context) error { return errors.New("boom") })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if calls != 1 || w.Code != http.StatusTeapot {
		t.Errorf("error handler called %d times, status %d", calls, w.Code)
	}
}

func TestTelemetryMetricLabelsAreBounded(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.NeverSample())
	for i := range 1000 {
		h.get("/api/v2/notes/" + strconv.Itoa(i))
	}
	hist := h.metric(t, "http.server.request.duration").(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 1 {
		t.Fatalf("%d series after 1000 IDs on one route, want 1", len(hist.DataPoints))
	}
	dp := hist.DataPoints[0]
	if dp.Count != 1000 {
		t.Errorf("count %d", dp.Count)
	}
	want := attribute.NewSet(
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/api/v2/notes/:id"),
		attribute.String("http.response.status_class", "2xx"),
		attribute.String("troupe.api.version", "v2"),
	)
	if !dp.Attributes.Equals(&want) {
		t.Errorf("labels %v, want %v", dp.Attributes.ToSlice(), want.ToSlice())
	}
}

func TestTelemetryUnmatchedHasNoRouteLabel(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.NeverSample())
	h.get("/no/such/route")
	h.do(httptest.NewRequest(http.MethodDelete, "/api/v2/notes/3", nil))
	hist := h.metric(t, "http.server.request.duration").(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 2 {
		t.Fatalf("%d series, want 2", len(hist.DataPoints))
	}
	for _, dp := range hist.DataPoints {
		if r, ok := dp.Attributes.Value("http.route"); ok {
			t.Errorf("http.route %q on an unmatched request", r.String())
		}
		if v, _ := dp.Attributes.Value("http.response.status_class"); v.String() != "4xx" {
			t.Errorf("status class %q", v.String())
		}
	}
}

func TestTelemetryActiveRequests(t *testing.T) {
	h := newTelemetryHarness(t, sdktrace.NeverSample())
	var during int64 = -1
	h.e.GET("/busy", func(c echo.Context) error {
		active := h.metric(t, "http.server.active_requests").(metricdata.Sum[int64])
		for _, dp := range active.DataPoints {
			if r, _ := dp.Attributes.Value("http.route"); r.String() == "/busy" {
				during = dp.Value
			}
		}
		return c.NoContent(http.StatusNoContent)
	})
	h.get("/busy")
	if during != 1 {
		t.Errorf("active requests on /busy during the request = %d, want 1", during)
	}
	active := h.metric(t, "http.server.active_requests").(metricdata.Sum[int64])
	for _, dp := range active.DataPoints {
		if dp.Value != 0 {
			t.Errorf("active requests %d after the request (%v)", dp.Value, dp.Attributes.ToSlice())
		}
	}
}

func TestTelemetryBodySizes(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run("chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
			h := newTelemetryHarness(t, sdktrace.AlwaysSample())
			r := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader("hello"))
			if chunked {
				r.ContentLength = -1
			}
			if w := h.do(r); w.Body.String() != "HELLO" {
				t.Fatalf("body %q", w.Body)
			}
			got := attrs(h.onlySpan(t).Attributes())
			if got["http.request.body.size"].AsInt64() != 5 || got["http.response.body.size"].AsInt64() != 5 {
				t.Errorf("span sizes in %v out %v", got["http.request.body.size"].String(), got["http.response.body.size"].String())
			}
			for _, name := range []string{"http.server.request.body.size", "http.server.response.body.size"} {
				hist := h.metric(t, name).(metricdata.Histogram[int64])
				if len(hist.DataPoints) != 1 || hist.DataPoints[0].Sum != 5 {
					t.Errorf("%s: %+v", name, hist.DataPoints)
				}
			}
		})
	}
}

// TestTelemetryUnsampledKeepsRequest checks the cheap path: an unsampled
// root span leaves the request alone, while an incoming trace is still
// carried to the handler so outgoing calls continue it.
func TestTelemetryUnsampledKeepsRequest(t *testing.T) {
	tests := []struct {
		name        string
		traceparent string
		wantTrace   string // "" when the handler must see no span
	}{
		{"root", "", ""},
		{"unsampled parent", "00-" + testTraceID + "-" + testSpanID + "-00", testTraceID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
			e := echo.New()
			var original, seen *http.Request
			e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error { original = c.Request(); return next(c) }
			})
			e.Use(TelemetryWithConfig(TelemetryConfig{TracerProvider: tp}))
			e.GET("/", func(c echo.Context) error { seen = c.Request(); return nil })
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.traceparent != "" {
				r.Header.Set("Traceparent", tt.traceparent)
			}
			e.ServeHTTP(httptest.NewRecorder(), r)
			sc := trace.SpanContextFromContext(seen.Context())
			if tt.wantTrace == "" {
				if seen != original || sc.IsValid() {
					t.Errorf("request replaced (%v) for an unsampled root span %v", seen != original, sc)
				}
				return
			}
			if sc.TraceID().String() != tt.wantTrace || sc.IsSampled() {
				t.Errorf("handler span %v, want trace %s unsampled", sc, tt.wantTrace)
			}
		})
	}
}

func TestTelemetryPropagatesWithoutTracer(t *testing.T) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	e := echo.New()
	e.Use(TelemetryWithConfig(TelemetryConfig{MeterProvider: mp}))
	var sc trace.SpanContext
	var tenant string
	e.GET("/", func(c echo.Context) error {
		sc = trace.SpanContextFromContext(c.Request().Context())
		tenant = baggage.FromContext(c.Request().Context()).Member("tenant").Value()
		return nil
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Traceparent", "00-"+testTraceID+"-"+testSpanID+"-01")
	r.Header.Add("Baggage", "plan=pro")
	r.Header.Add("Baggage", "tenant=acme")
	e.ServeHTTP(httptest.NewRecorder(), r)
	if sc.TraceID().String() != testTraceID || sc.SpanID().String() != testSpanID || !sc.IsRemote() {
		t.Errorf("handler saw %v, want the caller's span context", sc)
	}
	if tenant != "acme" {
		t.Errorf("baggage tenant %q, want the caller's (from its second field)", tenant)
	}
}

func TestTelemetryWithoutProvidersIsPassThrough(t *testing.T) {
	next := func(echo.Context) error { return nil }
	for name, cfg := range map[string]TelemetryConfig{
		"nil":  {},
		"noop": {TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()},
	} {
		t.Run(name, func(t *testing.T) {
			h := TelemetryWithConfig(cfg)(next)
			if reflect.ValueOf(h).Pointer() != reflect.ValueOf(next).Pointer() {
				t.Error("middleware wraps the handler though it has nothing to record")
			}
		})
	}
}

func TestTelemetrySkipper(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	e := echo.New()
	e.Use(TelemetryWithConfig(TelemetryConfig{
		TracerProvider: tp,
		Skipper:        func(r *http.Request) bool { return r.URL.Path == "/healthz" },
	}))
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/work", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, p := range []string{"/healthz", "/work"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	if ended := rec.Ended(); len(ended) != 1 || ended[0].Name() != "GET /work" {
		t.Errorf("spans %v, want only GET /work", ended)
	}
}

// TestTelemetryLabelSetsBounded fills the label cache past its bound with
// distinct routes: the series that do not fit fall back to method and status
// class, so the number of series stays bounded.
func TestTelemetryLabelSetsBounded(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	e := echo.New()
	e.Use(TelemetryWithConfig(TelemetryConfig{MeterProvider: mp}))
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	// Each route takes two slots: its route labels and one outcome.
	routes := maxTelemetryLabelSets/2 + 100
	for i := range routes {
		e.GET("/r"+strconv.Itoa(i), ok)
	}
	for i := range routes {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/r"+strconv.Itoa(i), nil))
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var series, fallback int
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "http.server.request.duration" {
			continue
		}
		for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			series++
			if _, ok := dp.Attributes.Value("http.route"); !ok {
				fallback++
			}
		}
	}
	if series > maxTelemetryLabelSets/2+1 || fallback != 1 {
		t.Errorf("%d series, %d without a route; want at most %d and 1", series, fallback, maxTelemetryLabelSets/2+1)
	}
}

// failingMeter returns no instruments, as a broken MeterProvider might.
type failingMeter struct{ metricnoop.Meter }

func (failingMeter) Float64Histogram(string, ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return nil, errors.New("no histogram for you")
}

func (failingMeter) Int64UpDownCounter(string, ...metric.Int64UpDownCounterOption) (metric.Int64UpDownCounter, error) {
	return nil, errors.New("no counter for you")
}

type failingMeterProvider struct{ metricnoop.MeterProvider }

func (failingMeterProvider) Meter(string, ...metric.MeterOption) metric.Meter { return failingMeter{} }

func TestTelemetrySurvivesFailingInstruments(t *testing.T) {
	var reported error
	previous := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { reported = err }))
	t.Cleanup(func() { otel.SetErrorHandler(previous) })
	e := echo.New()
	e.Use(TelemetryWithConfig(TelemetryConfig{MeterProvider: failingMeterProvider{}}))
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusNoContent {
		t.Errorf("status %d", w.Code)
	}
	if reported == nil || !strings.Contains(reported.Error(), "no histogram for you") {
		t.Errorf("reported %v, want the instrument errors", reported)
	}
}

// FuzzTelemetryRequestHeaders feeds untrusted trace headers and methods
// through the stage: whatever arrives, the request is served, one span ends,
// and the method label stays within the bounded set.
func FuzzTelemetryRequestHeaders(f *testing.F) {
	f.Add(http.MethodGet, "00-"+testTraceID+"-"+testSpanID+"-01", "vendor=opaque", "tenant=acme,plan=pro")
	f.Add(http.MethodPost, "00-"+testTraceID+"-"+testSpanID+"-00", "", "")
	f.Add("BREW", "garbage", "a=b,,c", "bad baggage;;;=")
	f.Add(http.MethodDelete, "ff-"+testTraceID+"-"+testSpanID+"-01", strings.Repeat("k=v,", 40), strings.Repeat("x=y,", 200))
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(rec))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	e := echo.New()
	e.Use(TelemetryWithConfig(TelemetryConfig{TracerProvider: tp, MeterProvider: mp}))
	e.Any("/notes/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	allowed := map[string]bool{methodOther: true}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"} {
		allowed[m] = true
	}
	f.Fuzz(func(t *testing.T, method, traceparent, tracestate, bag string) {
		if method == "" {
			method = http.MethodGet
		}
		rec.Reset()
		r := httptest.NewRequest(http.MethodGet, "/notes/1", nil)
		r.Method = method
		r.Header["Traceparent"] = []string{traceparent}
		r.Header["Tracestate"] = []string{tracestate}
		r.Header["Baggage"] = []string{bag}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		ended := rec.Ended()
		if len(ended) != 1 {
			t.Fatalf("%d spans ended", len(ended))
		}
		if m := attrs(ended[0].Attributes())["http.request.method"].String(); !allowed[m] {
			t.Errorf("method label %q outside the bounded set", m)
		}
	})
}
