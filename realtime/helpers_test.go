package realtime

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/internal/reqinfo"
)

// testHub is a hub with its actor system and a server for its endpoints.
type testHub struct {
	*Hub
	sys    *actors.System
	srv    *httptest.Server
	reader *sdkmetric.ManualReader
	mux    *http.ServeMux
}

// fastConfig is DefaultConfig with heartbeats short enough for tests.
func fastConfig() Config {
	cfg := DefaultConfig()
	cfg.PingInterval = time.Second
	cfg.IdleTimeout = 3 * time.Second
	cfg.ShutdownTimeout = 3 * time.Second
	return cfg
}

// newTestHub starts a hub with cfg and opts, and a server on loopback that
// serves each endpoint at its pattern ("GET /feed", "GET /rooms/{room}")
// the way a Troupe service would: the request carries a reqinfo.Info whose
// principal is the X-Test-User header's value (none when absent).
func newTestHub(t *testing.T, cfg Config, endpoints map[string]Endpoint, opts ...Option) *testHub {
	t.Helper()
	sys := actors.NewSystem()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	h, err := New(sys, cfg, append([]Option{WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	th := &testHub{Hub: h, sys: sys, reader: reader, mux: http.NewServeMux()}
	for pattern, ep := range endpoints {
		th.mux.Handle(pattern, Handler(ep))
	}
	th.srv = httptest.NewServer(withPrincipal(NewContextHandler(h, th.mux)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		th.srv.Close()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("actor system Shutdown: %v", err)
		}
	})
	return th
}

// NewContextHandler serves next with h in every request's context, as a
// service's base context does.
func NewContextHandler(h *Hub, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), h)))
	})
}

// withPrincipal stands in for the request-ID and authentication stages.
func withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &reqinfo.Info{ID: "req-1"}
		info.ClientIP, _, _ = net.SplitHostPort(r.RemoteAddr)
		if u := r.Header.Get("X-Test-User"); u != "" {
			info.Principal = &principal.Principal{Subject: u, Kind: principal.User}
		}
		next.ServeHTTP(w, r.WithContext(reqinfo.NewContext(r.Context(), info)))
	})
}

// url returns the ws:// URL of path on the test server.
func (th *testHub) url(path string) string {
	return "ws" + strings.TrimPrefix(th.srv.URL, "http") + path
}

// dial opens a WebSocket to path as user ("" for anonymous).
func (th *testHub) dial(t *testing.T, path, user string) *websocket.Conn {
	t.Helper()
	c, resp, err := th.tryDial(path, user, nil)
	if err != nil {
		body := ""
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
		}
		t.Fatalf("dial %s: %v %s", path, err, body)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func (th *testHub) tryDial(path, user string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	if user != "" {
		header.Set("X-Test-User", user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, th.url(path), &websocket.DialOptions{HTTPHeader: header})
}

// frame is a server message as the tests read it.
type frame struct {
	Type    string          `json:"type"`
	Room    string          `json:"room"`
	Seq     uint64          `json:"seq"`
	Sender  string          `json:"sender"`
	Data    json.RawMessage `json:"data"`
	Gap     bool            `json:"gap"`
	Status  int             `json:"status"`
	Op      string          `json:"op"`
	Members []Member        `json:"members"`
	Joins   []Member        `json:"joins"`
	Leaves  []Member        `json:"leaves"`
	Total   int             `json:"total"`
	DelayMS int64           `json:"delay_ms"`
	Raw     string          `json:"-"`
}

// read reads one text message and decodes it as a frame.
func read(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f frame
	if typ == websocket.MessageText {
		_ = json.Unmarshal(b, &f)
	}
	f.Raw = string(b)
	return f
}

// readType reads until a frame of type typ arrives.
func readType(t *testing.T, c *websocket.Conn, typ string) frame {
	t.Helper()
	for {
		if f := read(t, c); f.Type == typ {
			return f
		}
	}
}

// send writes v as a JSON text message.
func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// recorder is a handler actor that records what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []any
	got  chan any
}

func newRecorder() *recorder { return &recorder{got: make(chan any, 1024)} }

func (r *recorder) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case actors.Started, actors.Stopping, actors.Stopped:
		return
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
	r.got <- msg
}

// next returns the next message the recorder got.
func (r *recorder) next(t *testing.T) any {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("the handler actor got nothing within 30s")
		return nil
	}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 10*time.Second, what, cond)
}

// eventuallyWithin is eventually with its own bound.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
