package natsnode

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/natstest"
	"github.com/troupehq/troupe/internal/telemetry"
)

// value returns the single point of name, or fails the test.
func value(t *testing.T, points map[string][]metrictest.Point, name, attrs string) float64 {
	t.Helper()
	for _, p := range points[name] {
		if p.Attrs == attrs {
			return p.Value
		}
	}
	t.Fatalf("%s{%s} not recorded; got %v", name, attrs, points[name])
	return 0
}

func TestReconnectAfterServerRestart(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	logger, logs := testLogger()

	dir := t.TempDir()
	port := natstest.FreePorts(t, 1)[0]
	runServer := func() *server.Server {
		opts := natstest.Options(dir)
		opts.Port = port
		return natstest.RunWith(t, opts)
	}
	first := runServer()
	n := start(t, Config{URL: first.ClientURL(), MeterProvider: mp, Logger: logger})
	waitConnected(t, n)
	roundTrip(t, n)
	points := metrictest.Collect(t, reader)
	if v := value(t, points, telemetry.MetricNATSConnectionState, ""); v != stateConnected {
		t.Errorf("state while connected = %v", v)
	}
	if v := value(t, points, telemetry.MetricNATSRTT, ""); v <= 0 || v > 1 {
		t.Errorf("rtt = %v s", v)
	}
	if v := value(t, points, telemetry.MetricNATSMessages, "troupe.nats.direction=out"); v < 2 {
		t.Errorf("messages out = %v after a request and a reply", v)
	}
	if v := value(t, points, telemetry.MetricNATSTraffic, "troupe.nats.direction=in"); v < 8 {
		t.Errorf("bytes in = %v after a request and a reply", v)
	}
	if v := value(t, points, telemetry.MetricNATSReconnects, ""); v != 0 {
		t.Errorf("reconnects before any = %v", v)
	}

	first.Shutdown()
	first.WaitForShutdown()
	waitFor(t, "readiness to fail", func() bool { return n.Check(context.Background()) != nil })
	if err := n.Check(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Check while down = %v", err)
	}
	if err := n.Conn().Publish("x", []byte("lost")); !IsUnavailable(err) {
		t.Errorf("Publish while down = %v, want an error IsUnavailable recognises", err)
	}
	points = metrictest.Collect(t, reader)
	if v := value(t, points, telemetry.MetricNATSConnectionState, ""); v != stateReconnecting {
		t.Errorf("state while down = %v", v)
	}
	if _, ok := points[telemetry.MetricNATSRTT]; ok {
		t.Errorf("rtt observed while down: %v", points[telemetry.MetricNATSRTT])
	}

	runServer()
	waitFor(t, "readiness to pass", func() bool { return n.Check(context.Background()) == nil })
	roundTrip(t, n)
	points = metrictest.Collect(t, reader)
	if v := value(t, points, telemetry.MetricNATSReconnects, ""); v != 1 {
		t.Errorf("reconnects = %v, want 1", v)
	}
	if v := value(t, points, telemetry.MetricNATSConnectionState, ""); v != stateConnected {
		t.Errorf("state after reconnecting = %v", v)
	}
	for _, want := range []string{"NATS: disconnected; reconnecting", "NATS: reconnected"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	closeNode(t, n)
	points = metrictest.Collect(t, reader)
	if _, ok := points[telemetry.MetricNATSConnectionState]; ok {
		t.Error("a closed node is still observed")
	}
}
