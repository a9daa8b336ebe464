package middleware

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/troupehq/troupe/internal/reqinfo"
	troupetel "github.com/troupehq/troupe/internal/telemetry"
)

// telemetryScope names the instrumentation scope of Troupe's spans and
// metrics, so a backend can tell them from a handler's own.
const telemetryScope = "github.com/troupehq/troupe/middleware"

// maxTelemetryLabelSets bounds the cached label sets. Route templates,
// methods, status classes and API versions are all finite, so a real service
// stays far below it; past it, new combinations are labelled by method and
// status class only, so neither memory nor metric series can grow without
// end.
const maxTelemetryLabelSets = 10_000

// methodOther is the method label of every method outside the standard set.
const methodOther = "_OTHER"

// Attributes Troupe adds to the semantic conventions.
const (
	attrAPIVersion  = attribute.Key("troupe.api.version")
	attrRequestID   = attribute.Key("troupe.request.id")
	attrStatusClass = attribute.Key("http.response.status_class")
)

// durationBuckets are the semantic conventions' advised boundaries for
// http.server.request.duration, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// TelemetryConfig configures Telemetry.
type TelemetryConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// TracerProvider makes the server spans. Nil (or a noop provider) turns
	// tracing off.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the request metrics. Nil (or a noop provider)
	// turns metrics off.
	MeterProvider metric.MeterProvider
	// Propagator reads the caller's trace context and baggage from the
	// request headers. Default: W3C traceparent/tracestate and baggage.
	Propagator propagation.TextMapPropagator
	// ServerName, when set, is recorded as server.address on every span.
	ServerName string
}

// DefaultTelemetryConfig is the configuration Telemetry starts from.
var DefaultTelemetryConfig = TelemetryConfig{
	Skipper:    DefaultSkipper,
	Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
}

// telemetry is the state the middleware shares across requests.
type telemetry struct {
	skip       Skipper
	tracer     trace.Tracer // nil when tracing is off
	propagator propagation.TextMapPropagator
	server     []attribute.KeyValue // server.address, when configured
	metrics    bool
	duration   *troupetel.Histogram[outcomeLabels, float64] // nil when metrics are off
	active     *troupetel.Counter[routeKey]                 // nil when metrics are off
	bodyIn     *troupetel.Histogram[outcomeLabels, int64]   // nil when metrics are off
	bodyOut    *troupetel.Histogram[outcomeLabels, int64]   // nil when metrics are off
	routes     sync.Map                                     // routeKey → *routeLabels
	labelSets  atomic.Int64                                 // entries in routes and in their outcomes
}

// newTelemetry fills cfg's zero fields; it returns nil when cfg asks for
// neither traces nor metrics.
func newTelemetry(cfg TelemetryConfig) *telemetry {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultTelemetryConfig.Skipper
	}
	if cfg.Propagator == nil {
		cfg.Propagator = DefaultTelemetryConfig.Propagator
	}
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if _, ok := tp.(tracenoop.TracerProvider); ok {
		tp = nil
	}
	if _, ok := mp.(metricnoop.MeterProvider); ok {
		mp = nil
	}
	if tp == nil && mp == nil {
		return nil
	}
	t := &telemetry{skip: cfg.Skipper, propagator: cfg.Propagator}
	if cfg.ServerName != "" {
		t.server = []attribute.KeyValue{semconv.ServerAddress(cfg.ServerName)}
	}
	if tp != nil {
		t.tracer = tp.Tracer(telemetryScope, trace.WithSchemaURL(semconv.SchemaURL))
	}
	if mp != nil {
		t.metrics = true
		t.newInstruments(mp.Meter(telemetryScope, metric.WithSchemaURL(semconv.SchemaURL)))
	}
	return t
}

// newInstruments creates the semantic conventions' HTTP server instruments.
// A creation error goes to OpenTelemetry's error handler, as the API
// intends, and an instrument the meter did not return records nothing, so
// one faulty instrument never stops the service.
//
// The three histograms are recorded on every request: troupetel.Histogram
// records into the label set's cell with a few atomic operations, where the
// SDK's Record walked the attribute set each time (~0.35 µs a call).
func (t *telemetry) newInstruments(meter metric.Meter) {
	duration, err1 := troupetel.NewHistogram[outcomeLabels, float64](meter, troupetel.HistogramSpec{
		Name:        "http.server.request.duration",
		Unit:        "s",
		Description: "Duration of HTTP server requests.",
		Boundaries:  durationBuckets,
	}, outcomeAttributes)
	// Requests in flight go up and down twice per request: an atomic
	// counter read at collection costs a fraction of two synchronous Adds
	// (see troupetel.Counter).
	active, err2 := troupetel.NewCounter(meter, troupetel.CounterSpec{
		Name:        "http.server.active_requests",
		Unit:        "{request}",
		Description: "Number of active HTTP server requests.",
		UpDown:      true,
	}, activeAttributes)
	bodyIn, err3 := troupetel.NewHistogram[outcomeLabels, int64](meter, troupetel.HistogramSpec{
		Name:        "http.server.request.body.size",
		Unit:        "By",
		Description: "Size of HTTP server request bodies.",
	}, outcomeAttributes)
	bodyOut, err4 := troupetel.NewHistogram[outcomeLabels, int64](meter, troupetel.HistogramSpec{
		Name:        "http.server.response.body.size",
		Unit:        "By",
		Description: "Size of HTTP server response bodies.",
	}, outcomeAttributes)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		otel.Handle(err)
	}
	t.duration, t.active, t.bodyIn, t.bodyOut = duration, active, bodyIn, bodyOut
}

// observed is one request under observation, from begin to end.
type observed struct {
	start  time.Time
	labels *routeLabels
	span   trace.Span    // nil when tracing is off
	in     *countingBody // nil when Content-Length counts the body
}

// begin starts observing r, which matched route, and returns the request the
// inner chain must use: r itself, or r carrying the span and the caller's
// trace context.
func (t *telemetry) begin(r *http.Request, route string) (observed, *http.Request) {
	o := observed{start: time.Now(), labels: t.routeLabels(route, r.Method), in: countBody(r)}
	ctx := r.Context()
	// Extract returns ctx itself when the request carries no trace context.
	reqCtx := t.propagator.Extract(ctx, headerCarrier(r.Header))
	if t.tracer != nil {
		var spanCtx context.Context
		spanCtx, o.span = t.tracer.Start(reqCtx, o.labels.spanName, o.labels.startOptions...)
		if o.span.IsRecording() || reqCtx != ctx {
			reqCtx = spanCtx
		}
	}
	if reqCtx != ctx {
		ctx = reqCtx
		r = r.WithContext(ctx)
	}
	if t.metrics {
		o.labels.active.Add(1)
	}
	return o, r
}

// recording reports whether the span records attributes, so that end needs
// the spanDetail.
func (o *observed) recording() bool { return o.span != nil && o.span.IsRecording() }

// spanDetail is what a recording span adds that is dear to work out for
// every request.
type spanDetail struct {
	scheme   string
	clientIP string
}

// outcome is what end learns of a request once it has run.
type outcome struct {
	status   int
	bytesIn  int64 // -1 when unknown
	bytesOut int64
	version  string
	err      error // returned by the inner chain, already rendered
	panicked bool
}

// end records the outcome of o: r is the request as the inner chain left
// it, res its response, err the error it returned (already rendered).
// completed is false while a panic unwinds.
func (t *telemetry) end(o *observed, r *http.Request, res responseState, detail spanDetail, err error, completed bool) {
	ctx := r.Context()
	out := outcome{status: statusOf(r, res, completed), bytesIn: r.ContentLength, bytesOut: res.size, err: err, panicked: !completed}
	if o.in != nil {
		out.bytesIn = o.in.n
	}
	if info := reqinfo.FromContext(ctx); info != nil {
		out.version = info.APIVersion
	}
	if o.span != nil {
		endSpan(o.span, r, detail, out)
	}
	if !t.metrics {
		return
	}
	o.labels.active.Add(-1)
	cells := t.outcomeCells(o.labels, statusClass(out.status), out.version)
	cells.duration.Record(ctx, time.Since(o.start).Seconds())
	if out.bytesIn >= 0 {
		cells.bodyIn.Record(ctx, out.bytesIn)
	}
	cells.bodyOut.Record(ctx, out.bytesOut)
}

// endSpan sets the attributes and status of a recording span and ends it.
// Every attribute beyond those the span started with is set here in one
// call, which costs the SDK one copy instead of two, and an unsampled span
// never builds them.
//
// A 5xx is an error of the server, a 4xx is not (the client erred). The
// status description stays empty because the status code says it all,
// except for a panic, which the code alone would hide.
func endSpan(span trace.Span, r *http.Request, detail spanDetail, o outcome) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	attrs := [...]attribute.KeyValue{
		semconv.URLPath(r.URL.Path),
		semconv.URLScheme(detail.scheme),
		semconv.ClientAddress(detail.clientIP),
		semconv.UserAgentOriginal(r.UserAgent()),
		semconv.NetworkProtocolVersion(protocolVersion(r)),
		attrRequestID.String(reqinfo.RequestID(r.Context())),
		semconv.HTTPResponseStatusCode(o.status),
		semconv.HTTPResponseBodySize(int(o.bytesOut)),
		{}, {}, {}, {},
	}
	n := len(attrs) - 4
	if standardMethod(r.Method) == methodOther {
		attrs[n] = semconv.HTTPRequestMethodOriginal(r.Method)
		n++
	}
	if o.bytesIn > 0 {
		attrs[n] = semconv.HTTPRequestBodySize(int(o.bytesIn))
		n++
	}
	if o.version != "" {
		attrs[n] = attrAPIVersion.String(o.version)
		n++
	}
	switch {
	case o.panicked:
		attrs[n] = semconv.ErrorTypeKey.String("panic")
		n++
		span.SetStatus(codes.Error, "panic")
	case o.status >= 500 && o.status <= 599:
		attrs[n] = semconv.ErrorTypeKey.String(strconv.Itoa(o.status))
		n++
		span.SetStatus(codes.Error, "")
		if o.err != nil {
			span.RecordError(o.err)
		}
	}
	span.SetAttributes(attrs[:n]...)
}

// headerCarrier is propagation.HeaderCarrier without the cost of
// canonicalizing the W3C field names on every request: net/http's table of
// common header names lacks them, so each lookup would allocate.
type headerCarrier http.Header

// Get returns the first value of key.
func (h headerCarrier) Get(key string) string {
	if v := h[canonicalTraceHeader(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of key, so baggage split over several fields
// is read whole.
func (h headerCarrier) Values(key string) []string { return h[canonicalTraceHeader(key)] }

// Set replaces the values of key.
func (h headerCarrier) Set(key, value string) { http.Header(h).Set(key, value) }

// Keys lists the field names present.
func (h headerCarrier) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

func canonicalTraceHeader(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return http.CanonicalHeaderKey(key)
}

// routeKey identifies the labels of requests before they run.
type routeKey struct {
	method string // standardMethod's result
	route  string // "" when no route matched
}

// routeLabels holds what is prebuilt for one method and route.
type routeLabels struct {
	method       string
	route        string // "" when no route matched, or for labels past the bound
	spanName     string
	startOptions []trace.SpanStartOption
	active       *troupetel.CounterCell // nil when metrics are off
	cached       bool                   // false for labels built past the bound, which are not kept
	outcomes     sync.Map               // outcomeKey → *outcomeCells
}

// outcomeKey identifies the labels of requests after they ran.
type outcomeKey struct {
	class   string
	version string
}

// routeLabels returns the labels for a method and matched route template
// ("" when no route matched).
func (t *telemetry) routeLabels(route, rawMethod string) *routeLabels {
	k := routeKey{method: standardMethod(rawMethod), route: route}
	if v, ok := t.routes.Load(k); ok {
		return v.(*routeLabels)
	}
	if !t.reserveLabelSet() {
		return t.newRouteLabels(k, false)
	}
	v, loaded := t.routes.LoadOrStore(k, t.newRouteLabels(k, true))
	if loaded {
		t.labelSets.Add(-1)
	}
	return v.(*routeLabels)
}

func (t *telemetry) newRouteLabels(k routeKey, cached bool) *routeLabels {
	l := &routeLabels{method: k.method, cached: cached}
	// The semantic conventions name spans of unknown methods "HTTP".
	l.spanName = k.method
	if k.method == methodOther {
		l.spanName = "HTTP"
	}
	startAttrs := append([]attribute.KeyValue{semconv.HTTPRequestMethodKey.String(k.method)}, t.server...)
	if k.route != "" {
		l.spanName += " " + k.route
		startAttrs = append(startAttrs, semconv.HTTPRoute(k.route))
	}
	l.startOptions = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(startAttrs...),
	}
	if cached {
		l.route = k.route
	}
	l.active = t.active.Cell(routeKey{method: k.method, route: l.route})
	return l
}

// activeAttributes labels requests in flight by method and, for a cached
// route, its template.
func activeAttributes(k routeKey) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(k.method)}
	if k.route != "" {
		attrs = append(attrs, semconv.HTTPRoute(k.route))
	}
	return attrs
}

// outcomeLabels are the labels of a request's histograms.
type outcomeLabels struct {
	method, route, class, version string
}

// outcomeCells are the histogram cells of one outcomeLabels.
type outcomeCells struct {
	duration        *troupetel.HistogramCell[float64]
	bodyIn, bodyOut *troupetel.HistogramCell[int64]
}

// outcomeCells returns the histogram cells for a request of l that ended in
// status class with API version.
func (t *telemetry) outcomeCells(l *routeLabels, class, version string) *outcomeCells {
	k := outcomeKey{class: class, version: version}
	if v, ok := l.outcomes.Load(k); ok {
		return v.(*outcomeCells)
	}
	if !l.cached || !t.reserveLabelSet() {
		return t.newOutcomeCells(outcomeLabels{method: l.method, class: class})
	}
	v, loaded := l.outcomes.LoadOrStore(k, t.newOutcomeCells(outcomeLabels{l.method, l.route, class, version}))
	if loaded {
		t.labelSets.Add(-1)
	}
	return v.(*outcomeCells)
}

func (t *telemetry) newOutcomeCells(k outcomeLabels) *outcomeCells {
	return &outcomeCells{duration: t.duration.Cell(k), bodyIn: t.bodyIn.Cell(k), bodyOut: t.bodyOut.Cell(k)}
}

// outcomeAttributes labels a request's histograms by method, status class
// and, for a cached route, its template and API version.
func outcomeAttributes(k outcomeLabels) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(k.method),
		attrStatusClass.String(k.class),
	}
	if k.route != "" {
		attrs = append(attrs, semconv.HTTPRoute(k.route))
	}
	if k.version != "" {
		attrs = append(attrs, attrAPIVersion.String(k.version))
	}
	return attrs
}

// reserveLabelSet takes one of the bounded cache slots, or reports that
// none is left.
func (t *telemetry) reserveLabelSet() bool {
	if t.labelSets.Add(1) > maxTelemetryLabelSets {
		t.labelSets.Add(-1)
		return false
	}
	return true
}

// standardMethod returns method when it is one of the methods of RFC 9110
// and RFC 5789, and _OTHER otherwise, so a client cannot mint label values.
func standardMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch:
		return method
	}
	return methodOther
}

// statusClass returns the label for status: "1xx" to "5xx", or "other" for
// a code outside them.
func statusClass(status int) string {
	switch status / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return "other"
}

// protocolVersion returns network.protocol.version for r's HTTP version.
func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 3:
		return "3"
	}
	return strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
}
