package otlptest

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds a decoded export, so a broken exporter under test fails
// with 413 instead of exhausting memory.
const maxBody = 32 << 20

// Receiver is an in-process OTLP/HTTP collector: an httptest server that
// accepts protobuf exports, gzip-compressed or not, on POST /v1/traces and
// POST /v1/metrics and keeps what it decoded. Its Spans, ResourceSpans,
// Metrics and WaitSpans methods read what arrived.
type Receiver struct {
	store
	srv      *httptest.Server
	failWith atomic.Int32
	requests atomic.Int64
	header   atomic.Pointer[http.Header]
}

// NewReceiver starts a Receiver on a free loopback port; t.Cleanup closes it.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		var msg coltracepb.ExportTraceServiceRequest
		if r.receive(w, req, &msg) {
			r.addSpans(msg.GetResourceSpans())
			writeProto(w, &coltracepb.ExportTraceServiceResponse{})
		}
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		var msg colmetricspb.ExportMetricsServiceRequest
		if r.receive(w, req, &msg) {
			r.addMetrics(msg.GetResourceMetrics())
			writeProto(w, &colmetricspb.ExportMetricsServiceResponse{})
		}
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the collector's base URL, http://127.0.0.1:port, to which an
// exporter appends /v1/traces or /v1/metrics.
func (r *Receiver) URL() string { return r.srv.URL }

// Requests returns how many export requests arrived, failed ones included.
func (r *Receiver) Requests() int64 { return r.requests.Load() }

// LastHeader returns the headers of the latest export request (an empty
// header before the first), to check what an exporter sends with its data.
func (r *Receiver) LastHeader() http.Header {
	if h := r.header.Load(); h != nil {
		return *h
	}
	return http.Header{}
}

// Fail makes every later export answer with status (e.g. 503) and keep
// nothing, to test a failing collector. Fail(0) restores normal answers.
func (r *Receiver) Fail(status int) { r.failWith.Store(int32(status)) }

// receive decodes req into msg, answering the request itself and returning
// false when it cannot or when the receiver is failing.
func (r *Receiver) receive(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	r.requests.Add(1)
	h := req.Header.Clone()
	r.header.Store(&h)
	if status := r.failWith.Load(); status != 0 {
		http.Error(w, "otlptest: failing on purpose", int(status))
		return false
	}
	if err := decodeBody(req.Body, req.Header.Get("Content-Encoding"), msg); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return false
	}
	return true
}

var errTooLarge = fmt.Errorf("otlptest: body larger than %d bytes", maxBody)

// decodeBody reads a protobuf export, gunzipping it when encoding says gzip.
func decodeBody(body io.Reader, encoding string, msg proto.Message) error {
	switch encoding {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return fmt.Errorf("otlptest: gzip: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return fmt.Errorf("otlptest: unsupported Content-Encoding %q", encoding)
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return fmt.Errorf("otlptest: read body: %w", err)
	}
	if len(data) > maxBody {
		return errTooLarge
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		return fmt.Errorf("otlptest: decode: %w", err)
	}
	return nil
}

func writeProto(w http.ResponseWriter, msg proto.Message) {
	data, err := proto.Marshal(msg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(data)
}
