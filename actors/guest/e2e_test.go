package guest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/actors/wasm/wasmtest"
	"github.com/troupehq/troupe/internal/principal"
)

// e2eEnv is an actor System with a WASM Runtime whose KV store outlives
// actor restarts.
type e2eEnv struct {
	sys *actors.System
	rt  *wasm.Runtime
}

// e2eNew starts a System and a Runtime that builds the example components
// from source, with their dev builds and compiled code already in its cache
// (wasmtest.Warm does both outside the race detector, under which wazero
// compiles a Go guest in half a minute).
func e2eNew(t *testing.T, components ...string) *e2eEnv {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	cache := t.TempDir()
	dirs := make([]string, len(components))
	for i, c := range components {
		dirs[i] = e2eSource(c)
	}
	if err := wasmtest.Warm(cache, dirs...); err != nil {
		t.Fatal(err)
	}
	sys := actors.NewSystem()
	rt, err := wasm.NewRuntime(context.Background(), wasm.RuntimeOptions{
		System: sys, CacheDir: cache, Store: state.NewMemory(0), BuildMissing: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := rt.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return &e2eEnv{sys: sys, rt: rt}
}

// e2eSource is the source directory of an example component.
func e2eSource(name string) string { return filepath.Join("..", "..", "examples", "components", name) }

// e2eSpawn loads the example component name from its directory, where
// its module is missing, so the Runtime takes the dev build from its cache,
// and spawns its actor.
func (e *e2eEnv) e2eSpawn(t *testing.T, name string) (*wasm.Component, actors.Ref) {
	t.Helper()
	m, err := wasm.LoadManifest(filepath.Join(e2eSource(name), wasm.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return c, e.e2eStart(t, c)
}

func (e *e2eEnv) e2eStart(t *testing.T, c *wasm.Component) actors.Ref {
	t.Helper()
	ref, err := e.rt.Spawn(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// e2eAsk requests msg of ref and returns the reply.
func (e *e2eEnv) e2eAsk(t *testing.T, ref actors.Ref, msg any) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := e.sys.Request(ctx, ref, msg)
	if err != nil {
		t.Fatalf("request %v: %v", msg, err)
	}
	return reply
}

// TestExamplesEndToEnd runs the echo, counter and greeter examples as
// actors of a real Runtime, sharing one compilation cache.
func TestExamplesEndToEnd(t *testing.T) {
	t.Parallel()
	e := e2eNew(t, "echo", "counter", "greeter", "fetcher")
	t.Run("echo", e.testEcho)
	t.Run("counter survives restart", e.testCounter)
	t.Run("greeter serves HTTP", e.testGreeter)
	t.Run("fetcher keeps to its allow-list", e.testFetcher)
}

// testFetcher grants the fetcher one local server, in place of the
// example's example.com:443, and fetches from it and from another.
func (e *e2eEnv) testFetcher(t *testing.T) {
	serve := func(body string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
		t.Cleanup(srv.Close)
		return srv
	}
	granted, other := serve("hello from the granted host"), serve("secret")
	m, err := wasm.LoadManifest(filepath.Join(e2eSource("fetcher"), wasm.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m.Security.Capabilities = []string{"network:outbound:" + strings.TrimPrefix(granted.URL, "http://")}
	if m.Caps, err = wasm.ParseCapabilities(m.Security.Capabilities); err != nil {
		t.Fatal(err)
	}
	c, err := e.rt.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ref := e.e2eStart(t, c)
	if got, _ := e.e2eAsk(t, ref, granted.URL).([]byte); string(got) != "200 hello from the granted host" {
		t.Errorf("fetch from the granted host = %q", got)
	}
	var guestErr *wasm.GuestError
	reply := e.e2eAsk(t, ref, other.URL)
	if err, ok := reply.(error); !ok || !errors.As(err, &guestErr) || !strings.Contains(guestErr.Message, "denied") {
		t.Errorf("fetch from a host not granted replied %#v, want a denial", reply)
	}
}

func (e *e2eEnv) testEcho(t *testing.T) {
	_, ref := e.e2eSpawn(t, "echo")
	tests := []struct {
		msg  any
		want string
	}{
		{[]byte("hello"), "hello"},
		{"text", "text"},
		{map[string]int{"n": 1}, `{"n":1}`}, // other values arrive as JSON
	}
	for _, tt := range tests {
		if got, ok := e.e2eAsk(t, ref, tt.msg).([]byte); !ok || string(got) != tt.want {
			t.Errorf("echo of %v = %q, want %q", tt.msg, got, tt.want)
		}
	}
	// echo handles no HTTP: the SDK answers an error reply.
	reply := e.e2eAsk(t, ref, &actors.HTTPRequest{Method: "GET", Route: "/x"})
	if err, ok := reply.(error); !ok || err == nil {
		t.Errorf("HTTP request to echo replied %#v, want an error", reply)
	}
}

func (e *e2eEnv) testCounter(t *testing.T) {
	c, ref := e.e2eSpawn(t, "counter")
	for i, want := range []string{"1", "2", "3"} {
		if got, _ := e.e2eAsk(t, ref, "inc").([]byte); string(got) != want {
			t.Fatalf("inc #%d = %q, want %q", i+1, got, want)
		}
	}
	var guestErr *wasm.GuestError
	if reply, ok := e.e2eAsk(t, ref, "bogus").(error); !ok || !errors.As(reply, &guestErr) {
		t.Errorf("unknown command replied %#v, want a *wasm.GuestError", reply)
	}
	// A fresh actor, with a fresh instance and fresh memory, reads the
	// count back from KV.
	if err := e.sys.Stop(ref); err != nil {
		t.Fatal(err)
	}
	<-e.sys.Done(ref)
	ref = e.e2eStart(t, c)
	if got, _ := e.e2eAsk(t, ref, "get").([]byte); string(got) != "3" {
		t.Errorf("get after restart = %q, want 3", got)
	}
}

func (e *e2eEnv) testGreeter(t *testing.T) {
	_, ref := e.e2eSpawn(t, "greeter")
	alice := &principal.Principal{Subject: "alice", Kind: "user"}
	tests := []struct {
		req    actors.HTTPRequest
		status int
		header string // Content-Type, or Allow for 405
		body   string
	}{
		{actors.HTTPRequest{Method: "GET", Params: map[string]string{"name": "ada"}}, 200, "application/json", `{"greeting":"hello, ada"}`},
		{actors.HTTPRequest{Method: "GET", Params: map[string]string{"name": "bob"}, Principal: alice}, 200, "application/json", `{"greeting":"hello, bob","from":"alice"}`},
		{actors.HTTPRequest{Method: "POST"}, 405, "GET", ""},
	}
	for _, tt := range tests {
		resp, ok := e.e2eAsk(t, ref, &tt.req).(*actors.HTTPResponse)
		if !ok {
			t.Fatalf("%s replied %T, want *actors.HTTPResponse", tt.req.Method, resp)
		}
		header := resp.Header.Get("Content-Type") + resp.Header.Get("Allow")
		if resp.Status != tt.status || header != tt.header || string(resp.Body) != tt.body {
			t.Errorf("%s %v = %d %q %s, want %d %q %s", tt.req.Method, tt.req.Params, resp.Status, header, resp.Body, tt.status, tt.header, tt.body)
		}
	}
}
