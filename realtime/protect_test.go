package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/wstest"
)

// rawDial performs a WebSocket handshake on a plain TCP connection with a
// small receive buffer, and returns the socket: a client that does nothing
// the test does not make it do — no reading, no pongs.
func (th *testHub) rawDial(t *testing.T, path string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", th.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.(*net.TCPConn).SetReadBuffer(4096)
	req := "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: %v %v", resp, err)
	}
	return nc
}

// problemOf reads a refused handshake's problem document.
func problemOf(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	if resp == nil {
		t.Fatal("no response")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOversizedMessage(t *testing.T) {
	cfg := fastConfig()
	cfg.MaxMessageSize = 1024
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {}})
	c := th.dial(t, "/ws", "")
	_ = c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 4096)))
	if code := wstest.CloseStatus(t, c); code != websocket.StatusMessageTooBig {
		t.Fatalf("close %d, want 1009", code)
	}
	eventually(t, "counted", func() bool { return th.stats.closes[transportWebSocket][reasonTooBig].Load() == 1 })
}

func TestInvalidUTF8(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}})
	c := th.dial(t, "/ws", "")
	_ = c.Write(context.Background(), websocket.MessageText, []byte("ok \xff\xfe"))
	if code := wstest.CloseStatus(t, c); code != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("close %d, want 1007", code)
	}
}

// TestUnsupportedData: an endpoint with neither handler nor room to publish
// to has no use for a message that is not an operation.
func TestUnsupportedData(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /ws": {}})
	c := th.dial(t, "/ws", "")
	_ = c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3})
	if code := wstest.CloseStatus(t, c); code != websocket.StatusUnsupportedData {
		t.Fatalf("close %d, want 1003", code)
	}
}

// TestInboundRate: a client past inbound_rate is closed with 1008, and
// one within it is not.
func TestInboundRate(t *testing.T) {
	cfg := fastConfig()
	cfg.InboundRate = 20
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {}})
	calm := th.dial(t, "/ws", "")
	for range 10 {
		send(t, calm, map[string]string{"op": "ping"})
	}
	for range 10 {
		if f := read(t, calm); f.Type != "pong" {
			t.Fatalf("calm client got %s", f.Raw)
		}
	}
	flood := th.dial(t, "/ws", "")
	for range 200 {
		if err := flood.Write(context.Background(), websocket.MessageText, []byte(`{"op":"ping"}`)); err != nil {
			break
		}
	}
	if code := wstest.CloseStatus(t, flood); code != websocket.StatusPolicyViolation {
		t.Fatalf("close %d, want 1008", code)
	}
	send(t, calm, map[string]string{"op": "ping"})
	if f := read(t, calm); f.Type != "pong" {
		t.Fatalf("the calm client was affected: %s", f.Raw)
	}
}

// TestSlowConsumerDisconnect: a client that never reads fills its outbound
// queue and is disconnected; the queue never grows past its bound.
func TestSlowConsumerDisconnect(t *testing.T) {
	cfg := fastConfig()
	cfg.OutboundQueue = 8
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {Handler: "h"}})
	rec := newRecorder()
	_, _ = th.sys.SpawnActor("h", rec)
	th.rawDial(t, "/ws")
	conn := rec.next(t).(*Connected)
	big := strings.Repeat("x", 64<<10)
	c := th.connByID(conn.ID)
	for i := 0; i < 2000; i++ {
		if th.sys.Send(conn.Conn, big) != nil {
			break
		}
		if n := c.queueLen(); n > cfg.OutboundQueue {
			t.Fatalf("queue holds %d, bound %d", n, cfg.OutboundQueue)
		}
	}
	d := rec.next(t).(*Disconnected)
	if d.Reason != reasonSlowConsumer {
		t.Fatalf("reason %q, want slow_consumer", d.Reason)
	}
	if th.stats.drops.Load() == 0 {
		t.Error("no slow-consumer drop counted")
	}
}

// TestSlowConsumerDropOldest: under drop_oldest the client stays
// connected while its queue drops, memory stays bounded, and a client that
// takes no bytes for idle_timeout is closed in the end.
func TestSlowConsumerDropOldest(t *testing.T) {
	cfg := fastConfig()
	cfg.OutboundQueue = 8
	cfg.SlowConsumer = DropOldest
	// Long enough that sending 64 MB under the race detector on a loaded
	// machine does not hit the write deadline before the check.
	cfg.PingInterval, cfg.IdleTimeout = 5*time.Second, 15*time.Second
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {Handler: "h"}})
	rec := newRecorder()
	_, _ = th.sys.SpawnActor("h", rec)
	th.rawDial(t, "/ws")
	conn := rec.next(t).(*Connected)
	c := th.connByID(conn.ID)
	before := heapAlloc()
	for i := 0; i < 1000; i++ {
		_ = th.sys.Send(conn.Conn, []byte(strings.Repeat("y", 64<<10)))
		if n := c.queueLen(); n > cfg.OutboundQueue {
			t.Fatalf("queue holds %d, bound %d", n, cfg.OutboundQueue)
		}
	}
	_ = th.sys.Send(conn.Conn, "end")
	eventually(t, "the last message queued", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		q := &c.queue
		return q.n > 0 && string(q.buf[(q.head+q.n-1)%len(q.buf)].data) == "end"
	})
	if th.stats.drops.Load() == 0 {
		t.Fatal("no drop counted")
	}
	// 64 MB were sent; what the server holds is the queue and the socket.
	if grown := heapAlloc() - before; grown > 16<<20 {
		t.Errorf("heap grew by %d MB for one slow consumer", grown>>20)
	}
	if th.Connections() != 1 {
		t.Fatal("drop_oldest disconnected")
	}
	d := rec.next(t).(*Disconnected)
	if d.Reason != reasonWriteError && d.Reason != reasonIdleTimeout {
		t.Fatalf("reason %q, want write_error or idle_timeout", d.Reason)
	}
}

// TestHalfOpen: a peer that vanished — the socket open, nothing answering
// — is closed by the heartbeat within idle_timeout.
func TestHalfOpen(t *testing.T) {
	cfg := fastConfig()
	cfg.PingInterval = 100 * time.Millisecond
	cfg.IdleTimeout = 400 * time.Millisecond
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {Handler: "h"}})
	rec := newRecorder()
	_, _ = th.sys.SpawnActor("h", rec)
	th.rawDial(t, "/ws")
	rec.next(t)
	d := rec.next(t).(*Disconnected)
	if d.Reason != reasonIdleTimeout {
		t.Fatalf("reason %q, want idle_timeout", d.Reason)
	}
	// A client that answers pings stays.
	c := th.dial(t, "/ws", "")
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	rec.next(t)
	time.Sleep(4 * cfg.IdleTimeout)
	if th.Connections() != 1 {
		t.Fatal("a client answering pings was closed")
	}
}

// TestUpgradeRefused: what can be refused is refused before the upgrade,
// as a problem document.
func TestUpgradeRefused(t *testing.T) {
	cfg := fastConfig()
	cfg.MaxConnections = 3
	cfg.MaxConnectionsPerPrincipal = 2
	th := newTestHub(t, cfg, map[string]Endpoint{"GET /ws": {}, "GET /h": {Handler: "absent"}},
		WithAllowedOrigins("https://app.example"))

	// Origin: foreign refused, allowed and same-host accepted.
	_, resp, err := th.tryDial("/ws", "", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	problemOf(t, resp)
	for _, o := range []string{"https://app.example", "HTTPS://APP.EXAMPLE:443", "http://" + th.srv.Listener.Addr().String()} {
		c, _, err := th.tryDial("/ws", "origin", http.Header{"Origin": {o}})
		if err != nil {
			t.Fatalf("origin %s refused: %v", o, err)
		}
		_ = c.CloseNow()
	}
	eventually(t, "closed", func() bool {
		th.mu.Lock()
		defer th.mu.Unlock()
		return th.reserved == 0
	})

	// Per principal, then per process.
	th.dial(t, "/ws", "ada")
	th.dial(t, "/ws", "ada")
	_, resp, _ = th.tryDial("/ws", "ada", nil)
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection of ada: %v", resp)
	}
	problemOf(t, resp)
	th.dial(t, "/ws", "bob")
	_, resp, _ = th.tryDial("/ws", "cyd", nil)
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connection past max_connections: %v", resp)
	}
	if err := th.Ready(context.Background()); err == nil {
		t.Error("Ready while full")
	}

	// Not an upgrade; a broken handshake; a handler that is not running.
	r, _ := http.Get(th.srv.URL + "/ws")
	if r.StatusCode != http.StatusUpgradeRequired || r.Header.Get("Upgrade") != "websocket" {
		t.Errorf("plain GET: %d", r.StatusCode)
	}
	problemOf(t, r)
	req, _ := http.NewRequest(http.MethodGet, th.srv.URL+"/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "short")
	r, _ = http.DefaultClient.Do(req)
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad key: %d", r.StatusCode)
	}
	problemOf(t, r)
	got := th.stats.upgrades[transportWebSocket]
	// A connection is counted as accepted once it is live, which is after
	// its 101 reached the client: the last one may still be on its way.
	eventually(t, "six upgrades accepted", func() bool { return got[outcomeAccepted].Load() >= 6 })
	for outcome, min := range map[string]int64{outcomeOrigin: 1, outcomePrincipalLimit: 1, outcomeNodeLimit: 1, outcomeBadRequest: 2, outcomeAccepted: 6} {
		if n := got[outcome].Load(); n < min {
			t.Errorf("upgrades{%s} = %d, want ≥ %d", outcome, n, min)
		}
	}
}

func TestHandlerNotRunning(t *testing.T) {
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /h": {Handler: "absent"}})
	_, resp, err := th.tryDial("/h", "", nil)
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("absent handler: %v", err)
	}
	problemOf(t, resp)
}

// TestAuthorizer: the join policy is asked before the upgrade for the
// endpoint's rooms, and for each join and publish a client asks for.
func TestAuthorizer(t *testing.T) {
	deny := errors.New("denied")
	authz := func(_ context.Context, p *principal.Principal, action, room string) error {
		if p == nil {
			return deny
		}
		if room == "secret" || (action == opPublish && room == "readonly") {
			return deny
		}
		return nil
	}
	th := newTestHub(t, fastConfig(), map[string]Endpoint{"GET /r/{room}": {Rooms: []string{":room"}}, "GET /ws": {}},
		WithAuthorizer(authz))
	if _, resp, err := th.tryDial("/r/secret", "ada", nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("join refused at upgrade: %v", err)
	}
	c := th.dial(t, "/ws", "ada")
	send(t, c, map[string]any{"op": "join", "room": "secret"})
	if f := read(t, c); f.Type != "error" || f.Status != 403 || f.Op != "join" {
		t.Fatalf("join op refused: %s", f.Raw)
	}
	send(t, c, map[string]any{"op": "join", "room": "readonly"})
	readType(t, c, "joined")
	send(t, c, map[string]any{"op": "publish", "room": "readonly", "data": 1})
	if f := read(t, c); f.Type != "error" || f.Status != 403 || f.Op != "publish" {
		t.Fatalf("publish refused: %s", f.Raw)
	}
	send(t, c, map[string]any{"op": "fly"})
	if f := read(t, c); f.Type != "error" || f.Status != 400 {
		t.Fatalf("unknown op: %s", f.Raw)
	}
}

// heapAlloc returns the live heap after collections enough to free what
// finalizers hold: coder/websocket sets one on each connection, which
// delays freeing it, and all it references, by a cycle.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// connByID returns the open connection with id.
func (th *testHub) connByID(id string) *conn {
	th.mu.Lock()
	defer th.mu.Unlock()
	for c := range th.conns {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (c *conn) queueLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queue.len()
}
