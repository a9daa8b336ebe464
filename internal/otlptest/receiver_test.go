package otlptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func exportBody(t testing.TB, gz bool, names ...string) []byte {
	t.Helper()
	var spans []*tracepb.Span
	for _, n := range names {
		spans = append(spans, &tracepb.Span{Name: n})
	}
	data, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", "svc")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if !gz {
		return data
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func post(t *testing.T, url string, body []byte, encoding string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReceiverHTTP(t *testing.T) {
	r := NewReceiver(t)
	if !strings.HasPrefix(r.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want a loopback URL", r.URL())
	}
	if code := post(t, r.URL()+"/v1/traces", exportBody(t, false, "a"), ""); code != http.StatusOK {
		t.Fatalf("plain export status %d", code)
	}
	if code := post(t, r.URL()+"/v1/traces", exportBody(t, true, "b", "c"), "gzip"); code != http.StatusOK {
		t.Fatalf("gzip export status %d", code)
	}
	spans := r.WaitSpans(t, 3, time.Second)
	if len(spans) != 3 || spans[0].GetName() != "a" || spans[2].GetName() != "c" {
		t.Errorf("spans = %v, want a, b, c", spans)
	}
	if v, _ := Attr(r.ResourceSpans()[1].GetResource().GetAttributes(), "service.name"); v != "svc" {
		t.Errorf("resource service.name = %q", v)
	}

	for _, tc := range []struct {
		name, encoding string
		body           []byte
		want           int
	}{
		{"garbage", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"bad gzip", "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"unknown encoding", "br", exportBody(t, false, "x"), http.StatusBadRequest},
	} {
		if code := post(t, r.URL()+"/v1/traces", tc.body, tc.encoding); code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
	}

	r.Fail(http.StatusServiceUnavailable)
	if code := post(t, r.URL()+"/v1/traces", exportBody(t, false, "d"), ""); code != http.StatusServiceUnavailable {
		t.Errorf("failing receiver answered %d", code)
	}
	r.Fail(0)
	if code := post(t, r.URL()+"/v1/metrics", nil, ""); code != http.StatusOK {
		t.Errorf("empty metrics export status %d", code)
	}
	if got := len(r.Spans()); got != 3 {
		t.Errorf("receiver kept %d spans, want 3 (bad and failed exports dropped)", got)
	}
	if got := r.Requests(); got != 7 {
		t.Errorf("Requests() = %d, want 7", got)
	}
}

func TestGRPCReceiver(t *testing.T) {
	r := NewGRPCReceiver(t)
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(r.Addr()), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	_, span := tp.Tracer("t").Start(context.Background(), "grpc-span")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if spans := r.WaitSpans(t, 1, 5*time.Second); spans[0].GetName() != "grpc-span" {
		t.Errorf("span = %q", spans[0].GetName())
	}
}

func TestAttr(t *testing.T) {
	attrs := []*commonpb.KeyValue{
		strAttr("s", "v"),
		{Key: "i", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: -3}}},
		{Key: "d", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.5}}},
		{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
		{Key: "raw", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte("x")}}},
	}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"s", "v", true}, {"i", "-3", true}, {"d", "0.5", true}, {"b", "true", true}, {"missing", "", false},
	}
	for _, tt := range tests {
		if got, ok := Attr(attrs, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Attr(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := Attr(attrs, "raw"); !ok || got == "" {
		t.Errorf("Attr(raw) = %q, %v; want some rendering", got, ok)
	}
}

// FuzzDecodeBody feeds arbitrary bytes through the receiver's decoder: it
// must return an error or a message, never panic or hang.
func FuzzDecodeBody(f *testing.F) {
	f.Add(exportBody(f, false, "a"), "")
	f.Add(exportBody(f, true, "a"), "gzip")
	f.Add([]byte{0x0a, 0xff, 0xff}, "")
	f.Add([]byte("x"), "gzip")
	f.Fuzz(func(t *testing.T, body []byte, encoding string) {
		var msg coltracepb.ExportTraceServiceRequest
		_ = decodeBody(bytes.NewReader(body), encoding, &msg)
	})
}
