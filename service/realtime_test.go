package service

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/wstest"
	"github.com/troupehq/troupe/realtime"
	"github.com/troupehq/troupe/versioning"
)

// realtimeAPI has a feed (room "feed") and a chat room per path parameter.
func realtimeAPI() *versioning.API {
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.WS("/feed", realtime.Handler(realtime.Endpoint{Rooms: []string{"feed"}}))
		g.WS("/rooms/:room", realtime.Handler(realtime.Endpoint{Rooms: []string{"chat.:room"}, PublishInbound: true}))
	})
}

// wsURL is the WebSocket URL of path on r's main listener.
func (r *running) wsURL(path string) string { return "ws://" + r.svc.Addr().String() + path }

// dialWS opens a WebSocket to path with header.
func dialWS(r *running, path string, header http.Header, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.HTTPHeader = header
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, r.wsURL(path), opts)
}

// mustDialWS is dialWS that fails the test on an error, and closes the
// connection when the test ends.
func mustDialWS(t *testing.T, r *running, path string, header http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := dialWS(r, path, header, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// rawWS performs a handshake on a socket with a small receive buffer and
// returns it: a client that reads nothing and answers no ping.
func rawWS(t *testing.T, r *running, path string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", r.svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.(*net.TCPConn).SetReadBuffer(4096)
	_, _ = io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: %v %v", resp, err)
	}
	return nc
}

// TestRealtimeLimits: realtime.max_connections and
// realtime.max_connections_per_principal refuse upgrades before the
// handshake, and readiness reports a full instance.
func TestRealtimeLimits(t *testing.T) {
	r := start(t, map[string]string{"REALTIME__MAX_CONNECTIONS": "3", "REALTIME__MAX_CONNECTIONS_PER_PRINCIPAL": "2"},
		WithAPI(realtimeAPI()))
	mustDialWS(t, r, "/api/v1/feed", nil)
	mustDialWS(t, r, "/api/v1/feed", nil)
	// Anonymous clients count per IP: all of these come from 127.0.0.1.
	if _, resp, err := dialWS(r, "/api/v1/feed", nil, nil); err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one IP: %v", err)
	}
	// From 127.0.0.2, a second client: the process's third connection.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	other := &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
	c, _, err := dialWS(r, "/api/v1/feed", nil, other)
	if err != nil {
		t.Fatalf("from another IP: %v", err)
	}
	defer c.CloseNow()
	resp, _ := get(t, r.adminBase()+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readiness while full: %d", resp.StatusCode)
	}
	other.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}).DialContext}}
	if _, resp, err := dialWS(r, "/api/v1/feed", nil, other); err == nil || resp.StatusCode != http.StatusServiceUnavailable ||
		resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("past max_connections: %v %v", resp, err)
	}
	if l := metricLine(t, r, "troupe_realtime_connections_limit"); !strings.HasSuffix(l, " 3") {
		t.Errorf("connections limit metric: %q", l)
	}
}

// metricLine returns the first line of /metrics that starts with name.
func metricLine(t *testing.T, r *running, name string) string {
	t.Helper()
	_, body := get(t, r.adminBase()+"/metrics")
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	return ""
}

// TestRealtimeMessages: realtime.max_message_size closes with 1009,
// realtime.inbound_rate with 1008, and realtime.compression lets clients
// negotiate permessage-deflate.
func TestRealtimeMessages(t *testing.T) {
	r := start(t, map[string]string{"REALTIME__MAX_MESSAGE_SIZE": "1KiB", "REALTIME__INBOUND_RATE": "5", "REALTIME__COMPRESSION": "true"},
		WithAPI(realtimeAPI()))
	c := mustDialWS(t, r, "/api/v1/rooms/a", nil)
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"text":"`+strings.Repeat("x", 2048)+`"}`))
	if code := wstest.CloseStatus(t, c); code != websocket.StatusMessageTooBig {
		t.Errorf("2 KiB message: close %d, want 1009", code)
	}
	c = mustDialWS(t, r, "/api/v1/rooms/b", nil)
	for range 50 {
		if c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"ping"}`)) != nil {
			break
		}
	}
	if code := wstest.CloseStatus(t, c); code != websocket.StatusPolicyViolation {
		t.Errorf("50 messages at once past inbound_rate 5: close %d, want 1008", code)
	}
	_, resp, err := dialWS(r, "/api/v1/feed", nil, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Errorf("compression = true: extensions %q", ext)
	}
	// Off by default.
	r2 := start(t, nil, WithAPI(realtimeAPI()))
	_, resp, err = dialWS(r2, "/api/v1/feed", nil, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("compression off by default, negotiated %q", ext)
	}
}

// TestRealtimeSlowConsumer: a client that never reads fills
// realtime.outbound_queue; "disconnect" closes it, "drop_oldest" keeps it
// and counts the drops.
func TestRealtimeSlowConsumer(t *testing.T) {
	big := map[string]string{"pad": strings.Repeat("x", 32<<10)}
	for _, policy := range []string{"disconnect", "drop_oldest"} {
		t.Run(policy, func(t *testing.T) {
			r := start(t, map[string]string{"REALTIME__OUTBOUND_QUEUE": "4", "REALTIME__SLOW_CONSUMER": policy,
				"REALTIME__PING_INTERVAL": "10s", "REALTIME__IDLE_TIMEOUT": "60s"}, WithAPI(realtimeAPI()))
			rawWS(t, r, "/api/v1/feed")
			hub := r.svc.Realtime()
			eventually(t, "one connection open", func() bool { return hub.Connections() == 1 })
			drops := func() string { return metricLine(t, r, "troupe_realtime_slow_consumer_drops_total") }
			for i := 0; i < 500 && hub.Connections() == 1; i++ {
				if err := hub.Publish("feed", big); err != nil {
					t.Fatal(err)
				}
			}
			if policy == "disconnect" {
				eventually(t, "no connection open", func() bool { return hub.Connections() == 0 })
				if !strings.Contains(metricLine(t, r, "troupe_realtime_closes_total"), "slow_consumer") {
					t.Errorf("closes: %s", metricLine(t, r, "troupe_realtime_closes_total"))
				}
			} else {
				eventually(t, "a slow-consumer drop counted", func() bool { return !strings.HasSuffix(drops(), " 0") && drops() != "" })
				if hub.Connections() != 1 {
					t.Error("drop_oldest disconnected the client")
				}
			}
		})
	}
}

// TestRealtimeHeartbeat: a client that answers no ping is closed after
// realtime.idle_timeout, pinged every realtime.ping_interval.
func TestRealtimeHeartbeat(t *testing.T) {
	r := start(t, map[string]string{"REALTIME__PING_INTERVAL": "100ms", "REALTIME__IDLE_TIMEOUT": "1s"}, WithAPI(realtimeAPI()))
	rawWS(t, r, "/api/v1/feed")
	hub := r.svc.Realtime()
	eventually(t, "one connection open", func() bool { return hub.Connections() == 1 })
	eventually(t, "no connection open", func() bool { return hub.Connections() == 0 })
	if !strings.Contains(metricLine(t, r, "troupe_realtime_closes_total"), "idle_timeout") {
		t.Errorf("closes: %s", metricLine(t, r, "troupe_realtime_closes_total"))
	}
	// A client that answers stays, pinged meanwhile.
	pings := make(chan struct{}, 100)
	c, _, err := dialWS(r, "/api/v1/feed", nil, &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		pings <- struct{}{}
		return true
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	for range 3 {
		select {
		case <-pings:
		case <-time.After(10 * time.Second):
			t.Fatal("no ping")
		}
	}
	if hub.Connections() != 1 {
		t.Error("a client answering pings was closed")
	}
}

// TestRealtimeShutdown: at shutdown clients get a reconnect hint and 1001;
// one that does not answer the close is cut off after
// realtime.shutdown_timeout, and Run returns.
func TestRealtimeShutdown(t *testing.T) {
	r := start(t, map[string]string{"REALTIME__SHUTDOWN_TIMEOUT": "300ms"}, WithAPI(realtimeAPI()))
	c := mustDialWS(t, r, "/api/v1/feed", nil)
	wstest.ReadType(t, c, "joined")
	rawWS(t, r, "/api/v1/feed")
	eventually(t, "two connections open", func() bool { return r.svc.Realtime().Connections() == 2 })
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop(t) }()
	if m := wstest.ReadType(t, c, "reconnect"); m["delay_ms"] == nil {
		t.Errorf("reconnect hint %v", m)
	}
	if code := wstest.CloseStatus(t, c); code != websocket.StatusGoingAway {
		t.Errorf("close %d, want 1001", code)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Run: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if !strings.Contains(r.logs.String(), `"subsystem":"realtime"`) {
		t.Error("the realtime run was not stopped as a subsystem")
	}
}

// TestRealtimeConfigErrors: every [realtime] key is checked at New, by key.
func TestRealtimeConfigErrors(t *testing.T) {
	for key, env := range map[string]map[string]string{
		"realtime.max_connections":               {"REALTIME__MAX_CONNECTIONS": "0"},
		"realtime.max_connections_per_principal": {"REALTIME__MAX_CONNECTIONS": "5", "REALTIME__MAX_CONNECTIONS_PER_PRINCIPAL": "6"},
		"realtime.max_message_size":              {"REALTIME__MAX_MESSAGE_SIZE": "100B"},
		"realtime.inbound_rate":                  {"REALTIME__INBOUND_RATE": "0"},
		"realtime.outbound_queue":                {"REALTIME__OUTBOUND_QUEUE": "0"},
		"realtime.slow_consumer":                 {"REALTIME__SLOW_CONSUMER": "drop_newest"},
		"realtime.ping_interval":                 {"REALTIME__PING_INTERVAL": "0s"},
		"realtime.idle_timeout":                  {"REALTIME__IDLE_TIMEOUT": "10s"},
		"realtime.shutdown_timeout":              {"REALTIME__SHUTDOWN_TIMEOUT": "0s"},
	} {
		_, err := New("test", WithConfigLoader(testLoader(t, env)), WithLogOutput(&syncBuffer{}), WithAPI(realtimeAPI()))
		if err == nil || !strings.Contains(err.Error(), key+" (from env TEST_") {
			t.Errorf("%s: New = %v", key, err)
		}
	}
	// A mistake in code, not config: a room pattern that cannot be.
	_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}),
		WithRealtime(realtime.WithRooms(realtime.RoomConfig{Pattern: "a..b"})))
	if err == nil || !strings.Contains(err.Error(), "realtime") {
		t.Errorf("bad room pattern: %v", err)
	}
}

// TestRealtimeWiring: the hub exists only when something needs it, the CORS
// allow-list is its Origin allow-list, Cedar decides joins and
// publications on Room::"<name>", and its metrics are on /metrics.
func TestRealtimeWiring(t *testing.T) {
	plain := start(t, nil, WithAPI(versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/x", func(echo.Context) error { return nil })
	})))
	if plain.svc.Realtime() != nil {
		t.Error("a hub without realtime routes")
	}
	if metricLine(t, plain, "troupe_realtime_connections_limit") != "" {
		t.Error("realtime metrics without a hub")
	}

	dir := t.TempDir()
	policies := filepath.Join(dir, "p.cedar")
	_ = os.WriteFile(policies, []byte(`
permit (principal, action in [Action::"connect", Action::"join"], resource);
permit (principal, action == Action::"publish", resource) unless { resource == Room::"feed" };
`), 0o600)
	r := start(t, authEnv(map[string]string{"AUTH__CEDAR__POLICIES": policies, "CORS__ALLOW_ORIGINS": "https://app.example"}),
		WithAPI(realtimeAPI()), WithRealtime(realtime.WithRooms(realtime.RoomConfig{Pattern: "feed", History: 10})))
	bearer := http.Header{"Authorization": {"Bearer " + hs(t, jwt.SigningMethodHS256, claims(nil))}}
	if _, resp, err := dialWS(r, "/api/v1/feed", nil, nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %v", err)
	}
	h := bearer.Clone()
	h.Set("Origin", "https://evil.example")
	if _, resp, err := dialWS(r, "/api/v1/feed", h, nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	h.Set("Origin", "https://app.example")
	c := mustDialWS(t, r, "/api/v1/feed", h)
	wstest.ReadType(t, c, "joined")
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"publish","room":"feed","data":1}`))
	if m := wstest.ReadType(t, c, "error"); m["status"] != float64(403) {
		t.Errorf("publishing to feed: %v", m)
	}
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"join","room":"other"}`))
	wstest.ReadType(t, c, "joined")
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"publish","room":"other","data":1}`))
	if m := wstest.ReadType(t, c, "message"); m["room"] != "other" || m["sender"] != "ada" {
		t.Errorf("publishing to other: %v", m)
	}
	if err := r.svc.Realtime().Publish("feed", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if m := wstest.ReadType(t, c, "message"); m["room"] != "feed" {
		t.Errorf("server publication: %v", m)
	}
	_, body := get(t, r.adminBase()+"/metrics")
	if !strings.Contains(string(body), `troupe_realtime_transport="websocket"} 1`) {
		t.Errorf("no troupe_realtime_connections{transport=websocket} 1 on /metrics")
	}
}

// TestRealtimeInConsole: the inspector's console shows the realtime
// connections (read from the metrics), and shows no realtime section in a
// service without realtime routes.
func TestRealtimeInConsole(t *testing.T) {
	r := start(t, nil, WithAPI(realtimeAPI()))
	mustDialWS(t, r, "/api/v1/feed", nil)
	mustDialWS(t, r, "/api/v1/rooms/lobby", nil)
	var body []byte
	eventually(t, "the console shows two open connections", func() bool {
		_, body = get(t, r.adminBase()+"/console")
		return strings.Contains(string(body), `<span id="realtime-open">2</span> / 10000`)
	})
	for _, want := range []string{"Realtime connections", "<td>accepted</td><td>2</td>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the overview lacks %q:\n%s", want, body)
		}
	}
	_, body = get(t, startInspect(t, nil).adminBase()+"/console")
	if strings.Contains(string(body), "Realtime connections") {
		t.Error("a service without realtime routes shows a realtime section")
	}
}
