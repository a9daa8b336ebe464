package otlptest

import (
	"context"
	"net"
	"testing"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// GRPCReceiver is an in-process OTLP/gRPC collector serving the trace and
// metrics services on a free loopback port, without TLS. Its Spans,
// ResourceSpans, Metrics and WaitSpans methods read what arrived.
type GRPCReceiver struct {
	store
	addr string
}

// NewGRPCReceiver starts a GRPCReceiver; t.Cleanup stops it.
func NewGRPCReceiver(t testing.TB) *GRPCReceiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	r := &GRPCReceiver{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceService{r: r})
	colmetricspb.RegisterMetricsServiceServer(srv, metricsService{r: r})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns when Stop closes the listener; that error is the
		// expected end, not a failure.
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return r
}

// Addr returns the collector's host:port, for an insecure gRPC exporter.
func (r *GRPCReceiver) Addr() string { return r.addr }

type traceService struct {
	r *GRPCReceiver
	coltracepb.UnimplementedTraceServiceServer
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.addSpans(req.GetResourceSpans())
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	r *GRPCReceiver
	colmetricspb.UnimplementedMetricsServiceServer
}

func (s metricsService) Export(_ context.Context, req *colmetricspb.ExportMetricsServiceRequest) (*colmetricspb.ExportMetricsServiceResponse, error) {
	s.r.addMetrics(req.GetResourceMetrics())
	return &colmetricspb.ExportMetricsServiceResponse{}, nil
}
