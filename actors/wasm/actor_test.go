package wasm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/internal/abi"
	"github.com/troupehq/troupe/internal/principal"
	"github.com/troupehq/troupe/problem"
)

func TestComponentRoundTrip(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "echo", "")
	tests := []struct {
		name string
		msg  any
		want any
	}{
		{"bytes", []byte("hello"), []byte("hello")},
		{"string", "hi there", []byte("hi there")},
		{"raw JSON", json.RawMessage(`{"a":1}`), []byte(`{"a":1}`)},
		{"other values are JSON", map[string]int{"n": 2}, []byte(`{"n":2}`)},
		{"empty reply is nil", []byte{}, nil},
		{"guest error", "err:no such note", &GuestError{Component: "echo", Message: "no such note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.request(ref, tt.msg)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("reply = %#v, want %#v", got, tt.want)
			}
		})
	}
	// A Send has nobody to answer: its reply is dropped, not a dead letter.
	if err := e.sys.Send(ref, []byte("fire and forget")); err != nil {
		t.Errorf("Send: %v", err)
	}
	if _, err := e.request(ref, "after the send"); err != nil {
		t.Fatal(err)
	}
	if n := e.sys.Stats().DeadLetters[actors.ReasonNoSender]; n != 0 {
		t.Errorf("%d no-sender dead letters after a Send; want 0", n)
	}
}

func TestComponentMessageTooLarge(t *testing.T) {
	e := rtNew(t, RuntimeOptions{Limits: Limits{MaxMessageBytes: 8}})
	_, ref := e.spawn(t, "small", "")
	got, err := e.request(ref, "123456789")
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if gerr, _ := got.(error); !errors.Is(gerr, ErrMessageTooLarge) {
		t.Fatalf("reply = %v, want ErrMessageTooLarge", got)
	}
	if got, err := e.request(ref, "12345678"); err != nil || string(got.([]byte)) != "12345678" {
		t.Errorf("the instance must survive a refused message: %v, %v", got, err)
	}
	if n := e.sys.Stats().Restarts; n != 0 {
		t.Errorf("restarts = %d, want 0", n)
	}
}

func TestComponentHTTPRoute(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	e.spawn(t, "web", "")
	srv := rtRouteServer(t, e.sys, "web")
	tests := []struct {
		name, body string
		status     int
		wantBody   string
	}{
		{"guest response", "small", http.StatusCreated, "hello"},
		{"reply that is not JSON", strings.Repeat("x", 400), http.StatusInternalServerError, "failed"},
		{"fresh instance after the violation", "small", http.StatusCreated, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/notes/n1?lang=en", "text/plain", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, b, tt.status, tt.wantBody)
			}
			if tt.status == http.StatusCreated && resp.Header.Get("X-Guest") != "rt" {
				t.Errorf("X-Guest = %q, want the guest's header", resp.Header.Get("X-Guest"))
			}
		})
	}
}

// rtRouteServer serves actors.Route(name) at POST /notes/:id with an error
// handler rendering problems like the service's.
func rtRouteServer(t *testing.T, sys *actors.System, name string) *httptest.Server {
	t.Helper()
	ec := echo.New()
	ec.HTTPErrorHandler = func(err error, c echo.Context) {
		var pe *problem.Error
		if !errors.As(err, &pe) {
			pe = problem.NewError(http.StatusInternalServerError, "error")
		}
		pe.Render(c.Response(), c.Request())
	}
	ec.POST("/notes/:id", actors.Route(name, actors.WithSystem(sys)))
	srv := httptest.NewServer(ec)
	t.Cleanup(srv.Close)
	return srv
}

func TestEncodeHTTPRequest(t *testing.T) {
	b, err := encodeHTTPRequest(&actors.HTTPRequest{
		Method: "GET", Route: "/api/v2/notes/:id", Params: map[string]string{"id": "n1"},
		Header: http.Header{"Accept": {"application/json"}}, Body: []byte("hi"), RemoteIP: "192.0.2.1",
	}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"GET","route":"/api/v2/notes/:id","params":{"id":"n1"},"header":{"Accept":["application/json"]},"body":"aGk=","remote_ip":"192.0.2.1"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// The binary layout carries the same request, reusing the buffer.
	buf := make([]byte, 0, 512)
	b, err = encodeHTTPRequest(&actors.HTTPRequest{
		Method: "GET", Route: "/api/v2/notes/:id", Params: map[string]string{"id": "n1"},
		Header: http.Header{"Accept": {"application/json"}}, Body: []byte("hi"), RemoteIP: "192.0.2.1",
		Principal: &principal.Principal{Subject: "alice", Kind: principal.User},
	}, true, buf)
	if err != nil || &b[0] != &buf[:1][0] {
		t.Fatalf("binary encoding: %v, or not in the buffer given", err)
	}
	got, err := abi.DecodeHTTPRequest(b)
	wantReq := &abi.HTTPRequest{Method: "GET", Route: "/api/v2/notes/:id", Params: map[string]string{"id": "n1"},
		Header: abi.Header{"Accept": {"application/json"}}, Body: []byte("hi"), RemoteIP: "192.0.2.1",
		Principal: &abi.Principal{Subject: "alice", Kind: "user", Roles: []string{}, Scopes: []string{}}}
	if err != nil || !reflect.DeepEqual(got, wantReq) {
		t.Errorf("binary request decodes to %#v, %v; want %#v", got, err, wantReq)
	}
}

func TestDecodeHTTPResponse(t *testing.T) {
	tests := []struct {
		in      string
		status  int
		body    string
		wantErr bool
	}{
		{`{"status":201,"body":"aGk="}`, 201, "hi", false},
		{`{"header":{"A":["b"]}}`, 200, "", false},
		{`not json`, 0, "", true},
		{`{"status":42}`, 0, "", true},
		{`{"status":1000}`, 0, "", true},
		{`{"body":"!!"}`, 0, "", true},
	}
	for _, tt := range tests {
		resp, err := decodeHTTPResponse([]byte(tt.in), false)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (resp.Status != tt.status || string(resp.Body) != tt.body) {
			t.Errorf("%s: got %d %q", tt.in, resp.Status, resp.Body)
		}
	}
}

func FuzzDecodeHTTPResponse(f *testing.F) {
	f.Add([]byte(`{"status":201,"header":{"A":["b"]},"body":"aGk="}`))
	f.Add([]byte(`{"status":-1}`))
	f.Add([]byte(`[]`))
	f.Add(abi.AppendHTTPResponse(nil, &abi.HTTPResponse{Status: 201, Header: abi.Header{"A": {"b"}}, Body: []byte("hi")}))
	f.Add(abi.AppendHTTPResponse(nil, &abi.HTTPResponse{Status: -1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, binary := range []bool{false, true} {
			resp, err := decodeHTTPResponse(b, binary)
			if err == nil && (resp.Status < 100 || resp.Status > 999) {
				t.Fatalf("accepted status %d (binary %v)", resp.Status, binary)
			}
		}
	})
}

func TestComponentPublication(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "subscriber", "")
	if _, err := e.sys.Subscribe(ref, "orders.*"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.sys.Publish("orders.created", Publication{Subject: "orders.created", Data: []byte("o1")}); err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	want := binary.LittleEndian.AppendUint32(nil, uint32(len("orders.created")))
	want = append(append(want, "orders.created"...), "o1"...)
	// The publication is queued before "lastpub", and one actor handles
	// its messages in order.
	got, err := e.request(ref, "lastpub")
	if err != nil || string(got.([]byte)) != string(want) {
		t.Fatalf("lastpub = %q, %v; want %q", got, err, want)
	}
}

func TestComponentLifecycleExports(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "life", "health_check_interval_ms = 1")
	counts := func() (inits, healths uint32) {
		got, err := e.request(ref, "counts")
		if err != nil {
			t.Fatal(err)
		}
		b := got.([]byte)
		return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	}
	if inits, _ := counts(); inits != 1 {
		t.Errorf("troupe_init ran %d times, want 1", inits)
	}
	rtEventually(t, "a health check", func() bool { _, h := counts(); return h > 0 })

	events, cancel := e.sys.Events().Subscribe(16)
	defer cancel()
	if _, err := e.request(ref, "sick"); err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if r, ok := ev.(actors.ActorRestarted); ok && r.Ref == ref {
			break
		}
	}
	if inits, _ := counts(); inits != 1 {
		t.Errorf("the restarted actor's instance ran troupe_init %d times, want 1 (a fresh instance)", inits)
	}
	if !strings.Contains(e.log.String(), "reason=health") {
		t.Errorf("the health failure was not logged:\n%s", e.log)
	}
	if err := e.sys.Stop(ref); err != nil {
		t.Fatal(err)
	}
	<-e.sys.Done(ref)
	if !strings.Contains(e.log.String(), `msg=stopped component=life stream=stdout`) {
		t.Errorf("troupe_stop's stdout was not logged:\n%s", e.log)
	}
}

func TestComponentMalicious(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "evil", "message_timeout_ms = 100\nmax_memory_mb = 1")
	native, err := e.sys.Spawn("native", func() actors.Actor { return rtEchoActor{} })
	if err != nil {
		t.Fatal(err)
	}
	var te *actors.TimeoutError
	var abi *ABIError
	tests := []struct {
		cmd   string
		check func(error) bool
	}{
		{"loop", func(err error) bool { return errors.As(err, &te) && errors.Is(err, context.DeadlineExceeded) }},
		{"grow", func(err error) bool { return errors.Is(err, ErrTrap) }},
		{"trap", func(err error) bool { return errors.Is(err, ErrTrap) && strings.Contains(err.Error(), "unreachable") }},
		// Stack exhaustion traps; wazero's interpreter (used where the
		// compiler is unavailable) may reach the deadline first.
		{"recurse", func(err error) bool {
			return errors.Is(err, ErrTrap) && strings.Contains(err.Error(), "stack") || errors.As(err, &te)
		}},
		{"badptr", func(err error) bool { return errors.As(err, &abi) && strings.Contains(abi.Reason, "outside memory") }},
		{"huge", func(err error) bool { return errors.As(err, &abi) && strings.Contains(abi.Reason, "over the") }},
	}
	for i, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			_, err := e.request(ref, tt.cmd)
			if err == nil || !tt.check(err) {
				t.Fatalf("Request(%q) error = %v", tt.cmd, err)
			}
			if got, err := e.request(native, "still here"); err != nil || got != "still here" {
				t.Errorf("native actor: %v, %v", got, err)
			}
			got, err := e.request(ref, "counts")
			if err != nil || binary.LittleEndian.Uint32(got.([]byte)) != 1 {
				t.Errorf("follow-up on a fresh instance: %v, %v", got, err)
			}
			if n := e.sys.Stats().Restarts; n != uint64(i+1) {
				t.Errorf("restarts = %d, want %d", n, i+1)
			}
		})
	}
}

// rtEchoActor is a native actor replying with the message.
type rtEchoActor struct{}

func (rtEchoActor) Receive(c *actors.Context, msg any) {
	switch msg.(type) {
	case actors.Started, actors.Stopping, actors.Stopped, actors.Restarting:
		return
	}
	c.Respond(msg)
}

func TestComponentPool(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "pool", "max_cpu_cores = 4")
	const n = 4
	var peak int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			peak = max(peak, e.rt.watchdog.inflight.Load())
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := e.request(ref, "nap"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	close(errs)
	for err := range errs {
		t.Errorf("nap: %v", err)
	}
	// A serial pool would never have two calls in flight.
	if peak < 2 {
		t.Errorf("at most %d calls ran at once, want up to %d", peak, n)
	}
	if got, err := e.request(ref, "ping"); err != nil || string(got.([]byte)) != "ping" {
		t.Errorf("ping through the pool: %v, %v", got, err)
	}
}

func TestComponentPoolWorkerFailure(t *testing.T) {
	e := rtNew(t, RuntimeOptions{})
	_, ref := e.spawn(t, "pool", "max_cpu_cores = 2")
	if _, err := e.request(ref, "trap"); !errors.Is(err, ErrTrap) {
		t.Fatalf("trap through the pool: %v", err)
	}
	for range 4 {
		if got, err := e.request(ref, "ok"); err != nil || string(got.([]byte)) != "ok" {
			t.Fatalf("after a worker failure: %v, %v", got, err)
		}
	}
}
