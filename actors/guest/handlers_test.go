package guest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// testRegistry has a handler of every kind: messages echo (or fail on
// "fail", panic on "panic"), HTTP requests answer their route param, and
// publications fail on subject "bad".
func testRegistry() *registry {
	return &registry{
		http: httpCodec(func(_ Context, req *HTTPRequest) (*HTTPResponse, error) {
			switch req.Param("id") {
			case "nil":
				return nil, nil
			case "err":
				return nil, errors.New("no such note")
			case "status":
				return &HTTPResponse{Status: 42}, nil
			}
			return JSONResponse(201, map[string]string{"id": req.Param("id"), "who": req.Principal.Subject})
		}),
		message: func(ctx Context, msg []byte) ([]byte, error) {
			switch string(msg) {
			case "fail":
				return nil, errors.New("failed on purpose")
			case "silent":
				return nil, errors.New("")
			case "panic":
				panic("boom")
			case "kind":
				return []byte(ctx.Kind().String()), nil
			}
			return msg, nil
		},
		publication: func(_ Context, subject string, data []byte) error {
			if subject == "bad" {
				return errors.New("bad subject " + string(data))
			}
			return nil
		},
	}
}

// publication frames a kind 3 message.
func publication(subject, data string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(subject)))
	return append(append(b, subject...), data...)
}

func TestReceive(t *testing.T) {
	tests := []struct {
		name string
		reg  *registry
		kind Kind
		msg  string
		want string // the reply; "" means none
	}{
		{"echo", testRegistry(), KindMessage, "hello", "\x00hello"},
		{"empty reply", testRegistry(), KindMessage, "", ""},
		{"context kind", testRegistry(), KindMessage, "kind", "\x00message"},
		{"handler error", testRegistry(), KindMessage, "fail", "\x01failed on purpose"},
		{"panic", testRegistry(), KindMessage, "panic", "\x01message handler panicked: boom"},
		{"empty error", testRegistry(), KindMessage, "silent", "\x01message handler failed"},
		{"http", testRegistry(), KindHTTP,
			`{"method":"GET","route":"/n/:id","params":{"id":"n1"},"principal":{"subject":"alice","kind":"user","roles":[],"scopes":[]}}`,
			"\x00" + `{"status":201,"header":{"Content-Type":["application/json"]},"body":"eyJpZCI6Im4xIiwid2hvIjoiYWxpY2UifQ=="}`},
		{"http nil response", testRegistry(), KindHTTP, `{"params":{"id":"nil"}}`, "\x00" + `{"status":0}`},
		{"http error", testRegistry(), KindHTTP, `{"params":{"id":"err"}}`, "\x01no such note"},
		{"http bad status", testRegistry(), KindHTTP, `{"params":{"id":"status"}}`, "\x01HTTP handler returned status 42, not a 3-digit code"},
		{"http panic", testRegistry(), KindHTTP, `{"params":{"id":"x"}}`, "\x01http handler panicked: runtime error: invalid memory address or nil pointer dereference"},
		{"http bad json", testRegistry(), KindHTTP, `{`, "\x01malformed HTTP request: json: unexpected end of input"},
		{"publication", testRegistry(), KindPublication, string(publication("orders.new", "o1")), ""},
		{"publication error", testRegistry(), KindPublication, string(publication("bad", "o2")), "\x01bad subject o2"},
		{"publication short", testRegistry(), KindPublication, "\x05\x00\x00\x00abc", "\x01" + errShortPublication.Error()},
		{"publication no header", testRegistry(), KindPublication, "ab", "\x01" + errShortPublication.Error()},
		{"unknown kind", testRegistry(), 9, "x", "\x01component has no handler for kind 9 messages"},
		{"unhandled message", &registry{}, KindMessage, "x", "\x01component has no handler for message messages"},
		{"unhandled http", &registry{}, KindHTTP, "{}", "\x01component has no handler for http messages"},
		{"unhandled publication", &registry{}, KindPublication, string(publication("a", "")), "\x01component has no handler for publication messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.reg.receive(tt.kind, []byte(tt.msg))
			if string(got) != tt.want {
				t.Errorf("receive(%v, %q) = %q, want %q", tt.kind, tt.msg, got, tt.want)
			}
		})
	}
}

// TestReceiveReusesReplyBuffer pins the ABI's lifetime rule from the
// guest's side: a reply is valid until the next call, and consecutive
// replies share the buffer instead of allocating.
func TestReceiveReusesReplyBuffer(t *testing.T) {
	r := testRegistry()
	first := r.receive(KindMessage, []byte("one"))
	second := r.receive(KindMessage, []byte("two"))
	if &first[0] != &second[0] {
		t.Error("second reply did not reuse the reply buffer")
	}
	if string(second) != "\x00two" {
		t.Errorf("second reply = %q", second)
	}
}

func TestHTTPResponseBodyRoundTrips(t *testing.T) {
	out := testRegistry().receive(KindHTTP, []byte(`{"params":{"id":"n1"},"principal":{"subject":"bob"}}`))
	var resp HTTPResponse
	if err := json.Unmarshal(out[1:], &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || resp.Header.Get("content-type") != "application/json" || string(resp.Body) != `{"id":"n1","who":"bob"}` {
		t.Errorf("response = %+v, body %s", resp, resp.Body)
	}
}

func TestHooks(t *testing.T) {
	stopped := 0
	tests := []struct {
		name string
		reg  *registry
		init int32
		hlth int32
	}{
		{"absent", &registry{}, 0, 0},
		{"succeed", &registry{init: func() error { return nil }, health: func() error { return nil }}, 0, 0},
		{"fail", &registry{init: func() error { return errors.New("no") }, health: func() error { return errors.New("sick") }}, 1, 1},
		{"panic", &registry{init: func() error { panic("init") }, health: func() error { panic("health") }}, 1, 1},
		{"stop panics", &registry{stop: func() { stopped++; panic("stop") }}, 0, 0},
		{"stop", &registry{stop: func() { stopped++ }}, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.reg.runInit(); got != tt.init {
			t.Errorf("%s: runInit = %d, want %d", tt.name, got, tt.init)
		}
		if got := tt.reg.runHealth(); got != tt.hlth {
			t.Errorf("%s: runHealth = %d, want %d", tt.name, got, tt.hlth)
		}
		tt.reg.runStop()
	}
	if stopped != 2 {
		t.Errorf("stop hooks ran %d times, want 2", stopped)
	}
}

func TestRegistration(t *testing.T) {
	t.Cleanup(func() { handlers = registry{} })
	handlers = registry{}
	msg := func(Context, []byte) ([]byte, error) { return nil, nil }
	hook := func() error { return nil }
	register := []struct {
		name string
		call func()
	}{
		{"Handle", func() { Handle(msg) }},
		{"HandleHTTP", func() { HandleHTTP(func(Context, *HTTPRequest) (*HTTPResponse, error) { return nil, nil }) }},
		{"HandlePublication", func() { HandlePublication(func(Context, string, []byte) error { return nil }) }},
		{"OnInit", func() { OnInit(hook) }},
		{"OnHealth", func() { OnHealth(hook) }},
		{"OnStop", func() { OnStop(func() {}) }},
	}
	for _, r := range register {
		r.call()
		if p := panicValue(r.call); !strings.Contains(p, r.name+" called twice") {
			t.Errorf("second %s panicked with %q", r.name, p)
		}
	}
	if handlers.message == nil || handlers.http == nil || handlers.publication == nil ||
		handlers.init == nil || handlers.health == nil || handlers.stop == nil {
		t.Errorf("not every handler registered: %+v", handlers)
	}
	handlers = registry{}
	if p := panicValue(func() { Handle(nil) }); !strings.Contains(p, "Handle called with a nil function") {
		t.Errorf("Handle(nil) panicked with %q", p)
	}
}

// panicValue runs f and returns what it panicked with, as a string.
func panicValue(f func()) (p string) {
	defer func() {
		if v := recover(); v != nil {
			p, _ = v.(string)
		}
	}()
	f()
	return ""
}

func TestBufferHolds(t *testing.T) {
	var b buffer
	msg := b.get(8)
	copy(msg, "payload!")
	if got, ok := b.holds(unsafePointer(msg), 8); !ok || string(got) != "payload!" {
		t.Errorf("holds(start, 8) = %q, %v", got, ok)
	}
	if _, ok := b.holds(unsafePointer(msg[1:]), 4); ok {
		t.Error("holds accepted a pointer inside the buffer")
	}
	if _, ok := b.holds(unsafePointer(msg), 9); ok {
		t.Error("holds accepted a length past the buffer")
	}
	if _, ok := b.holds(unsafePointer(msg), -1); ok {
		t.Error("holds accepted a negative length")
	}
	if got, ok := b.holds(nil, 0); !ok || len(got) != 0 {
		t.Errorf("holds(nil, 0) = %q, %v; want an empty message", got, ok)
	}
}

func TestBufferRetention(t *testing.T) {
	var b buffer
	small := b.get(100)
	if again := b.get(50); &again[0] != &small[0] {
		t.Error("a smaller message did not reuse the buffer")
	}
	big := b.get(retainBytes + 1)
	if cap(big) < retainBytes+1 {
		t.Fatalf("get(%d) has capacity %d", retainBytes+1, cap(big))
	}
	if after := b.get(10); cap(after) > retainBytes {
		t.Errorf("an ordinary message after an outsized one kept %d bytes", cap(after))
	}
}

// unsafePointer is b's address, as the host would pass it back.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

type stringer struct{}

func (stringer) String() string { return "stringer" }

func TestPanicText(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{errors.New("e"), "e"},
		{"s", "s"},
		{stringer{}, "stringer"},
		{-3, "-3"},
		{int64(4), "4"},
		{uint64(5), "5"},
		{true, "true"},
		{struct{}{}, "a value of a type other than error, string, Stringer or integer"},
	}
	for _, tt := range tests {
		if got := panicText(tt.v); got != tt.want {
			t.Errorf("panicText(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestHTTPScratchNotPinned checks that one large response does not keep
// its buffer for the instance's life: the next small one is encoded in a
// small buffer.
func TestHTTPScratchNotPinned(t *testing.T) {
	big := make([]byte, 2*retainBytes)
	codec := httpCodec(func(_ Context, req *HTTPRequest) (*HTTPResponse, error) {
		if req.Method == "BIG" {
			return &HTTPResponse{Body: big}, nil
		}
		return &HTTPResponse{Body: []byte("small")}, nil
	})
	for _, method := range []string{"BIG", "GET"} {
		msg := abi.AppendHTTPRequest(nil, &abi.HTTPRequest{Method: method})
		out, err := codec(Context{}, kindHTTPBinary, msg)
		if err != nil {
			t.Fatal(err)
		}
		if method == "GET" && cap(out) > retainBytes {
			t.Fatalf("a small response after a large one is in a %d-byte buffer", cap(out))
		}
	}
}
