package realtime

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/metrictest"
	"github.com/troupehq/troupe/internal/wstest"
)

// TestShutdown: clients are told to reconnect (a reconnect message with a
// delay, then 1001), new upgrades are refused with 503, readiness fails,
// and Shutdown returns once every connection has gone.
func TestShutdown(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}, "GET /feed": {Rooms: []string{"feed"}}})
	ws := th.dial(t, "/ws", "")
	_, sse := th.openSSE(t, "/feed", nil)
	nextEvent(t, sse) // joined
	eventually(t, "both open", func() bool { return th.Connections() == 2 })

	done := make(chan error, 1)
	go func() { done <- th.Shutdown(context.Background()) }()
	f := read(t, ws)
	if f.Type != "reconnect" || f.DelayMS < 0 || f.DelayMS >= reconnectSpread.Milliseconds() {
		t.Fatalf("before the close: %s", f.Raw)
	}
	if code := wstest.CloseStatus(t, ws); code != websocket.StatusGoingAway {
		t.Fatalf("close %d, want 1001", code)
	}
	if ev := nextEvent(t, sse); ev.event != "reconnect" || ev.retry == "" {
		t.Fatalf("SSE before the close: %+v", ev)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if _, resp, err := th.tryDial("/ws", "", nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade after shutdown: %v", err)
	} else {
		problemOf(t, resp)
	}
	if err := th.Ready(context.Background()); err == nil {
		t.Error("ready after shutdown")
	}
	if err := th.Publish("feed", 1); err != ErrShuttingDown {
		t.Errorf("Publish after shutdown: %v", err)
	}
	if got := th.stats.closes[transportWebSocket][reasonShutdown].Load(); got != 1 {
		t.Errorf("closes{shutdown} = %d", got)
	}
}

// TestShutdownTimeout: a client that does not answer the close handshake
// is cut off once shutdown_timeout has passed.
func TestShutdownTimeout(t *testing.T) {
	cfg := fastConfig()
	cfg.ShutdownTimeout = 500 * time.Millisecond
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {}})
	th.rawDial(t, "/ws") // never reads: no close handshake
	eventually(t, "open", func() bool { return th.Connections() == 1 })
	start := time.Now()
	if err := th.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > closeGrace+cfg.ShutdownTimeout+5*time.Second {
		t.Errorf("Shutdown took %v", took)
	}
	if th.Connections() != 0 {
		t.Error("a connection survived Shutdown")
	}
}

// TestCompression: permessage-deflate is offered only when configured.
func TestCompression(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := fastConfig()
		cfg.Compression = on
		th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, th.url("/ws"), &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		ext := resp.Header.Get("Sec-WebSocket-Extensions")
		if got := strings.Contains(ext, "permessage-deflate"); got != on {
			t.Errorf("compression %v: extensions %q", on, ext)
		}
		// Messages still flow either way.
		send(t, c, map[string]string{"op": "ping", "pad": strings.Repeat("p", 2048)})
		if f := read(t, c); f.Type != "pong" {
			t.Errorf("compression %v: %s", on, f.Raw)
		}
		_ = c.CloseNow()
	}
}

// TestMetrics: the instruments report connections, upgrades, messages,
// bytes, closes and delivery latency.
func TestMetrics(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}})
	c := th.dial(t, "/ws", "")
	send(t, c, map[string]string{"op": "ping"})
	read(t, c)
	// The writer counts a delivery once its write returned, which may be
	// after the client has read it.
	eventually(t, "the pong counted", func() bool { return th.stats.bytesOut.Load() > 0 })
	_, _, _ = th.tryDial("/nope", "", nil)
	points := metrictest.Collect(t, th.reader)
	want := map[string]string{
		"troupe.realtime.connections":         "troupe.realtime.transport=websocket",
		"troupe.realtime.connections.limit":   "",
		"troupe.realtime.upgrades":            "troupe.realtime.outcome=accepted,troupe.realtime.transport=websocket",
		"troupe.realtime.messages":            "troupe.realtime.direction=in",
		"troupe.realtime.bytes":               "troupe.realtime.direction=out",
		"troupe.realtime.slow_consumer.drops": "",
		"troupe.realtime.delivery.duration":   "",
	}
	for name, attrs := range want {
		found := false
		for _, p := range points[name] {
			if p.Attrs == attrs && (p.Value > 0 || name == "troupe.realtime.slow_consumer.drops") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s{%s}: not reported; got %v", name, attrs, points[name])
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	eventually(t, "closed", func() bool { return th.Connections() == 0 })
	points = metrictest.Collect(t, th.reader)
	if !metrictest.SamePoints(points["troupe.realtime.closes"], []metrictest.Point{{Attrs: "troupe.realtime.close_reason=client_closed,troupe.realtime.transport=websocket", Value: 1}}) {
		t.Errorf("closes = %v", points["troupe.realtime.closes"])
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := map[string]func(*Config){
		"MaxConnections":             func(c *Config) { c.MaxConnections = 0 },
		"MaxConnectionsPerPrincipal": func(c *Config) { c.MaxConnectionsPerPrincipal = c.MaxConnections + 1 },
		"MaxMessageSize":             func(c *Config) { c.MaxMessageSize = 100 },
		"InboundRate":                func(c *Config) { c.InboundRate = 0 },
		"OutboundQueue":              func(c *Config) { c.OutboundQueue = 1 << 20 },
		"SlowConsumer":               func(c *Config) { c.SlowConsumer = 9 },
		"PingInterval":               func(c *Config) { c.PingInterval = 0 },
		"IdleTimeout":                func(c *Config) { c.IdleTimeout = c.PingInterval },
		"ShutdownTimeout":            func(c *Config) { c.ShutdownTimeout = -time.Second },
	}
	for field, edit := range cases {
		cfg := DefaultConfig()
		edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field+": ") {
			t.Errorf("%s: Validate() = %v", field, err)
		}
		if _, err := New(actors.NewSystem(), cfg); err == nil {
			t.Errorf("%s: New accepted an invalid config", field)
		}
	}
	var p SlowConsumerPolicy
	if err := p.UnmarshalText([]byte("drop_oldest")); err != nil || p != DropOldest {
		t.Errorf("UnmarshalText(drop_oldest) = %v, %v", p, err)
	}
	if err := p.UnmarshalText([]byte("drop_newest")); err == nil {
		t.Error("UnmarshalText accepted drop_newest")
	}
}

func TestEndpointValidate(t *testing.T) {
	for _, ep := range []Endpoint{
		{Rooms: []string{"a..b"}},
		{Rooms: []string{"chat.*"}},
		{PublishInbound: true},
		{PublishInbound: true, Rooms: []string{"a", "b"}},
		{Transports: 4},
	} {
		if ep.Validate() == nil {
			t.Errorf("%+v: valid", ep)
		}
	}
	if err := (Endpoint{Rooms: []string{"chat.:room", "orders.:id.events"}}).Validate(); err != nil {
		t.Error(err)
	}
	if _, err := New(actors.NewSystem(), DefaultConfig(), WithRooms(RoomConfig{Pattern: "a.>.b"})); err == nil {
		t.Error("a room pattern with > inside accepted")
	}
	if _, err := New(actors.NewSystem(), DefaultConfig(), WithAllowedOrigins("ftp://x")); err == nil {
		t.Error("an ftp origin accepted")
	}
}

func TestMatchRoom(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"chat.*", "chat.lobby", true}, {"chat.*", "chat", false}, {"chat.*", "chat.a.b", false},
		{"chat.>", "chat.a.b", true}, {"chat.>", "chat", false}, {">", "x", true}, {"feed", "feed", true},
	} {
		if got := matchRoom(c.pattern, c.name); got != c.want {
			t.Errorf("matchRoom(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

// TestDefaultConfigMatchesServiceDefaults keeps the Go defaults and a
// service's [realtime] defaults one table.
func TestDefaultConfigMatchesServiceDefaults(t *testing.T) {
	r := config.Default().Realtime
	var policy SlowConsumerPolicy
	if err := policy.UnmarshalText([]byte(r.SlowConsumer)); err != nil {
		t.Fatal(err)
	}
	fromFile := Config{
		MaxConnections: r.MaxConnections, MaxConnectionsPerPrincipal: r.MaxConnectionsPerPrincipal,
		MaxMessageSize: r.MaxMessageSize.Int64(), InboundRate: r.InboundRate, OutboundQueue: r.OutboundQueue,
		SlowConsumer: policy, PingInterval: r.PingInterval, IdleTimeout: r.IdleTimeout,
		ShutdownTimeout: r.ShutdownTimeout, Compression: r.Compression,
	}
	if d := DefaultConfig(); d != fromFile {
		t.Errorf("DefaultConfig() = %+v\nconfig.Default().Realtime gives %+v", d, fromFile)
	}
}
