package service

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/troupehq/troupe/internal/otlptest"
	"github.com/troupehq/troupe/versioning"
)

// An incoming W3C trace context: a sampled parent span of a known trace.
const (
	parentTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpanID      = "00f067aa0ba902b7"
	parentTraceparent = "00-" + parentTraceID + "-" + parentSpanID + "-01"
)

// slowEntered and slowRelease let a test hold a request in flight on /slow;
// the test makes them before it starts the service.
var slowEntered, slowRelease chan struct{}

// telemetryAPI has a route with a path parameter, one that fails, one that
// logs through the service's logger with the request's context, and one that
// calls downstream with the service's instrumented client.
func telemetryAPI(svc **Service, downstream *string) *versioning.API {
	return versioning.New("/api").Version(2, func(g *versioning.Group) {
		g.GET("/notes/:id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")) })
		g.GET("/fail", func(c echo.Context) error { return errors.New("boom") })
		g.GET("/slow", func(c echo.Context) error {
			slowEntered <- struct{}{}
			<-slowRelease
			return c.NoContent(http.StatusNoContent)
		})
		g.GET("/log", func(c echo.Context) error {
			(*svc).Logger().InfoContext(c.Request().Context(), "handler says", "email", "ada@example.com", "kept", "visible")
			return c.NoContent(http.StatusNoContent)
		})
		g.GET("/call", func(c echo.Context) error {
			req, err := http.NewRequestWithContext(c.Request().Context(), http.MethodGet, *downstream, nil)
			if err != nil {
				return err
			}
			resp, err := (*svc).HTTPClient(5 * time.Second).Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			return c.NoContent(resp.StatusCode)
		})
	})
}

// startTelemetry runs the telemetry test service with env.
func startTelemetry(t *testing.T, env map[string]string, downstream string) *running {
	t.Helper()
	var svc *Service
	r := start(t, env, WithAPI(telemetryAPI(&svc, &downstream)), WithVersion("1.2.3"))
	svc = r.svc
	return r
}

// otlpEnv exports traces to rcv over OTLP/HTTP, plus extra.
func otlpEnv(rcv string, extra map[string]string) map[string]string {
	env := map[string]string{"TELEMETRY__TRACES__EXPORTER": "otlp", "TELEMETRY__OTLP__ENDPOINT": rcv}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func request(t *testing.T, url string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func spanNamed(t *testing.T, spans []*tracepb.Span, name string) *tracepb.Span {
	t.Helper()
	for _, s := range spans {
		if s.GetName() == name {
			return s
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.GetName()
	}
	t.Fatalf("no span named %q among %q", name, names)
	return nil
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func attr(t *testing.T, s *tracepb.Span, key string) string {
	t.Helper()
	v, ok := otlptest.Attr(s.GetAttributes(), key)
	if !ok {
		t.Errorf("span %q lacks attribute %s", s.GetName(), key)
	}
	return v
}

// TestTelemetryExportsRequestSpans runs requests through a service that
// exports to an in-process collector and checks what arrives: span names by
// route template, the parent from traceparent, error status on 5xx, a new
// trace for a malformed traceparent, the resource, the export headers, and
// the trace ID in the access log.
func TestTelemetryExportsRequestSpans(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	r := startTelemetry(t, otlpEnv(rcv.URL(), map[string]string{
		"TELEMETRY__SERVICE_NAME":        "notes-api",
		"TELEMETRY__RESOURCE_ATTRIBUTES": "deployment.environment=test",
		"TELEMETRY__OTLP__HEADERS":       "x-api-key=s3cret%21",
	}), "")

	if resp := request(t, r.base()+"/api/v2/notes/42", http.Header{"Traceparent": {parentTraceparent}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET note: %d", resp.StatusCode)
	}
	if resp := request(t, r.base()+"/api/v2/fail", nil); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GET fail: %d", resp.StatusCode)
	}
	request(t, r.base()+"/api/v2/notes/7", http.Header{"Traceparent": {"00-zz-not-a-trace-01"}})
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	// Stop flushed the batch: every span is there without waiting.
	spans := rcv.Spans()
	if len(spans) != 3 {
		t.Fatalf("got %d spans after shutdown, want 3", len(spans))
	}
	var note, bad *tracepb.Span
	for _, s := range spans {
		if s.GetName() != "GET /api/v2/notes/:id" {
			continue
		}
		if hexID(s.GetTraceId()) == parentTraceID {
			note = s
		} else {
			bad = s
		}
	}
	if note == nil || bad == nil {
		t.Fatalf("want two note spans, one in the incoming trace: %v", spans)
	}
	if got := hexID(note.GetParentSpanId()); got != parentSpanID {
		t.Errorf("parent span = %s, want %s", got, parentSpanID)
	}
	if note.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("kind = %v, want server", note.GetKind())
	}
	for key, want := range map[string]string{
		"http.route":                "/api/v2/notes/:id",
		"http.request.method":       "GET",
		"http.response.status_code": "200",
		"url.path":                  "/api/v2/notes/42",
		"troupe.api.version":        "v2",
	} {
		if got := attr(t, note, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if len(bad.GetParentSpanId()) != 0 {
		t.Errorf("a malformed traceparent became the parent %x", bad.GetParentSpanId())
	}
	fail := spanNamed(t, spans, "GET /api/v2/fail")
	if fail.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("5xx span status = %v, want error", fail.GetStatus())
	}

	res := rcv.ResourceSpans()[0].GetResource().GetAttributes()
	for key, want := range map[string]string{"service.name": "notes-api", "service.version": "1.2.3", "deployment.environment": "test"} {
		if got, _ := otlptest.Attr(res, key); got != want {
			t.Errorf("resource %s = %q, want %q", key, got, want)
		}
	}
	if id, _ := otlptest.Attr(res, "service.instance.id"); len(id) != 36 {
		t.Errorf("service.instance.id = %q, want a UUID", id)
	}
	if got := rcv.LastHeader().Get("X-Api-Key"); got != "s3cret!" {
		t.Errorf("collector got x-api-key %q, want the decoded secret", got)
	}

	var access map[string]any
	for line := range strings.Lines(r.logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["path"] == "/api/v2/notes/42" {
			access = rec
		}
	}
	if access["trace_id"] != parentTraceID || access["span_id"] != hexID(note.GetSpanId()) {
		t.Errorf("access log record %v does not carry the request's trace and span IDs", access)
	}
}

// TestTelemetryTracesOff checks that without an exporter no span leaves the
// service, even for a sampled incoming trace.
func TestTelemetryTracesOff(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	r := startTelemetry(t, map[string]string{"TELEMETRY__OTLP__ENDPOINT": rcv.URL()}, "")
	request(t, r.base()+"/api/v2/notes/1", http.Header{"Traceparent": {parentTraceparent}})
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if n := rcv.Requests(); n != 0 {
		t.Errorf("collector got %d exports with traces.exporter at its default", n)
	}
}

// TestTelemetrySampling checks the sampler and its ratio: a ratio of 0 drops
// new traces, and the parent-based form still follows a sampled parent.
func TestTelemetrySampling(t *testing.T) {
	for _, tt := range []struct {
		sampler, arg string
		want         int
	}{
		{"traceidratio", "0", 0},
		{"traceidratio", "1", 2},
		{"parentbased_traceidratio", "0", 1}, // only the request with a sampled parent
		{"always_off", "1", 0},
	} {
		t.Run(tt.sampler+"="+tt.arg, func(t *testing.T) {
			rcv := otlptest.NewReceiver(t)
			r := startTelemetry(t, otlpEnv(rcv.URL(), map[string]string{
				"TELEMETRY__TRACES__SAMPLER":     tt.sampler,
				"TELEMETRY__TRACES__SAMPLER_ARG": tt.arg,
			}), "")
			request(t, r.base()+"/api/v2/notes/1", http.Header{"Traceparent": {parentTraceparent}})
			request(t, r.base()+"/api/v2/notes/2", nil)
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			if got := len(rcv.Spans()); got != tt.want {
				t.Errorf("exported %d spans, want %d", got, tt.want)
			}
		})
	}
}

// TestTelemetryGRPC exports over OTLP/gRPC to a bare host:port, which needs
// telemetry.otlp.insecure: without it the exporter insists on TLS and
// nothing arrives.
func TestTelemetryGRPC(t *testing.T) {
	for _, insecure := range []bool{true, false} {
		t.Run(map[bool]string{true: "insecure", false: "tls"}[insecure], func(t *testing.T) {
			rcv := otlptest.NewGRPCReceiver(t)
			env := otlpEnv(rcv.Addr(), map[string]string{
				"TELEMETRY__OTLP__PROTOCOL":   "grpc",
				"TELEMETRY__OTLP__TIMEOUT":    "1s",
				"TELEMETRY__SHUTDOWN_TIMEOUT": "2s",
			})
			if insecure {
				env["TELEMETRY__OTLP__INSECURE"] = "true"
			}
			r := startTelemetry(t, env, "")
			request(t, r.base()+"/api/v2/notes/1", nil)
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}
			want := map[bool]int{true: 1, false: 0}[insecure]
			if got := len(rcv.Spans()); got != want {
				t.Errorf("gRPC collector got %d spans, want %d", got, want)
			}
		})
	}
}

// TestTelemetryMetricsPush checks the OTLP metric push and its interval: with
// a short interval the request metrics arrive while the service runs.
func TestTelemetryMetricsPush(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	r := startTelemetry(t, map[string]string{
		"TELEMETRY__METRICS__EXPORTER": "otlp",
		"TELEMETRY__METRICS__INTERVAL": "50ms",
		"TELEMETRY__OTLP__ENDPOINT":    rcv.URL(),
	}, "")
	request(t, r.base()+"/api/v2/notes/1", nil)
	deadline := time.Now().Add(10 * time.Second)
	for !hasMetric(rcv, "http.server.request.duration") {
		if time.Now().After(deadline) {
			t.Fatal("no http.server.request.duration pushed while the service ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasMetric(rcv *otlptest.Receiver, name string) bool {
	for _, rm := range rcv.Metrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					return true
				}
			}
		}
	}
	return false
}

// hangingCollector accepts exports and never answers until the test ends.
func hangingCollector(t *testing.T) string {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

// TestTelemetryFlushIsBounded checks both bounds on a collector that never
// answers: telemetry.shutdown_timeout ends the flush at shutdown, and
// telemetry.otlp.timeout ends each export, whose failure is logged.
func TestTelemetryFlushIsBounded(t *testing.T) {
	t.Run("shutdown_timeout", func(t *testing.T) {
		r := startTelemetry(t, otlpEnv(hangingCollector(t), map[string]string{
			"TELEMETRY__SHUTDOWN_TIMEOUT": "100ms",
			"TELEMETRY__OTLP__TIMEOUT":    "60s",
		}), "")
		request(t, r.base()+"/api/v2/notes/1", nil)
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		mustContain(t, r.logs.String(), `"msg":"telemetry not flushed completely"`, `"timeout":100000000`)
	})
	t.Run("otlp_timeout", func(t *testing.T) {
		r := startTelemetry(t, otlpEnv(hangingCollector(t), map[string]string{
			"TELEMETRY__SHUTDOWN_TIMEOUT": "60s",
			"TELEMETRY__OTLP__TIMEOUT":    "100ms",
		}), "")
		request(t, r.base()+"/api/v2/notes/1", nil)
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		logs := r.logs.String()
		mustContain(t, logs, "deadline exceeded")
		if strings.Contains(logs, "telemetry not flushed completely") {
			t.Error("the 60s shutdown bound was hit; the 100ms export timeout should have ended the export first")
		}
	})
}

// TestTelemetryUnreachableCollector keeps serving while every export fails,
// and logs the failures at a bounded rate rather than once per batch.
func TestTelemetryUnreachableCollector(t *testing.T) {
	rcv := otlptest.NewReceiver(t)
	rcv.Fail(http.StatusServiceUnavailable)
	r := startTelemetry(t, otlpEnv(rcv.URL(), map[string]string{"TELEMETRY__OTLP__TIMEOUT": "200ms"}), "")
	for i := range 20 {
		if resp := request(t, r.base()+"/api/v2/notes/1", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d while the collector is down", i, resp.StatusCode)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(r.logs.String(), "telemetry export failed"); n < 1 || n > 2 {
		t.Errorf("logged %d export failures, want 1 or 2 (rate-limited)", n)
	}
}

// TestHTTPClientPropagates checks that the service's outbound client carries
// the request's trace to the dependency.
func TestHTTPClientPropagates(t *testing.T) {
	got := make(chan string, 1)
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
	}))
	defer downstream.Close()
	rcv := otlptest.NewReceiver(t)
	r := startTelemetry(t, otlpEnv(rcv.URL(), nil), downstream.URL)
	if resp := request(t, r.base()+"/api/v2/call", http.Header{"Traceparent": {parentTraceparent}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET call: %d", resp.StatusCode)
	}
	if tp := <-got; !strings.HasPrefix(tp, "00-"+parentTraceID+"-") || strings.Contains(tp, parentSpanID) {
		t.Errorf("downstream traceparent = %q, want trace %s with a new parent span", tp, parentTraceID)
	}
}

// TestLogRedactFields checks log.redact_fields on a handler's own record,
// which also carries the request ID.
func TestLogRedactFields(t *testing.T) {
	for _, redact := range []bool{false, true} {
		env := map[string]string{}
		if redact {
			env["LOG__REDACT_FIELDS"] = "Email"
		}
		r := startTelemetry(t, env, "")
		request(t, r.base()+"/api/v2/log", http.Header{"X-Request-Id": {"req-123"}})
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		for line := range strings.Lines(r.logs.String()) {
			if strings.Contains(line, "handler says") {
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := map[bool]string{false: "ada@example.com", true: "[REDACTED]"}[redact]
		if rec["email"] != want || rec["kept"] != "visible" || rec["request_id"] != "req-123" {
			t.Errorf("redact=%v: record %v, want email %q, kept visible, request_id req-123", redact, rec, want)
		}
	}
}

// TestTelemetryKeepsInFlightSpans stops the service while a request is in
// flight: the drain lets it finish, and the flush that follows exports its
// span.
func TestTelemetryKeepsInFlightSpans(t *testing.T) {
	slowEntered, slowRelease = make(chan struct{}, 1), make(chan struct{})
	rcv := otlptest.NewReceiver(t)
	r := startTelemetry(t, otlpEnv(rcv.URL(), nil), "")
	status := make(chan int, 1)
	go func() {
		resp, err := http.Get(r.base() + "/api/v2/slow")
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-slowEntered
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop(t) }()
	// Shutdown has begun (readiness fails at once) before the release.
	for {
		if resp, _ := get(t, r.adminBase()+"/readyz"); resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(slowRelease)
	if code := <-status; code != http.StatusNoContent {
		t.Fatalf("in-flight request got %d, want 204", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	spanNamed(t, rcv.Spans(), "GET /api/v2/slow")
}
