package wasm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// hostServer starts an httptest server on 127.0.0.1 and returns it with its
// port.
func hostServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return srv, u.Port()
}

// fetch runs http_fetch with req marshalled as JSON.
func (g *hostGuest) fetch(req any) int64 {
	g.t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		g.t.Fatal(err)
	}
	p, n := g.put(b)
	return g.call("http_fetch", p, n)
}

func TestHostFetch(t *testing.T) {
	srv, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Echo", r.Header.Get("X-Guest"))
		w.WriteHeader(http.StatusCreated)
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		fmt.Fprintf(w, "got %s", body)
	})
	f := hostNewEnv(t, nil, "network:outbound:127.0.0.1:"+port)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	r := g.fetch(map[string]any{
		"method": "POST", "url": srv.URL + "/x", "header": map[string][]string{"X-Guest": {"hi"}},
		"body": []byte("payload"), "timeout_ms": 5000,
	})
	if r <= 0 {
		t.Fatalf("http_fetch = %d (%q)", r, f.env.result)
	}
	var resp abi.FetchResponse
	if err := json.Unmarshal([]byte(g.pending(r)), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || string(resp.Body) != "got payload" ||
		resp.Header.Get("X-Method") != "POST" || resp.Header.Get("X-Echo") != "hi" {
		t.Errorf("response = %+v", resp)
	}
}

func TestHostFetchDenied(t *testing.T) {
	_, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("a denied request reached the server") })
	for _, tc := range []struct {
		name, grant, url, capability string
	}{
		{"port not granted", "network:outbound:127.0.0.1:1", "http://127.0.0.1:" + port + "/", "network:outbound:127.0.0.1:" + port},
		{"host not granted", "network:outbound:example.com:" + port, "http://127.0.0.1:" + port + "/", "network:outbound:127.0.0.1:" + port},
		{"default port", "network:outbound:127.0.0.1:" + port, "https://127.0.0.1/", "network:outbound:127.0.0.1:443"},
		{"name for a granted IP", "network:outbound:127.0.0.1:" + port, "http://localhost:" + port + "/", "network:outbound:localhost:" + port},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := hostNewEnv(t, nil, tc.grant)
			g := hostInstantiate(t, "host_calls.wat", f.env)
			hp := strings.TrimPrefix(tc.capability, "network:outbound:")
			f.wantDenied(t, g.fetch(map[string]any{"url": tc.url}), "network", tc.capability, hp)
		})
	}
}

func TestHostFetchRedirectToUngrantedHost(t *testing.T) {
	_, otherPort := hostServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("the redirect was followed") })
	srv, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+otherPort+"/secret", http.StatusFound)
	})
	f := hostNewEnv(t, nil, "network:outbound:127.0.0.1:"+port)
	g := hostInstantiate(t, "host_calls.wat", f.env)
	hp := "127.0.0.1:" + otherPort
	f.wantDenied(t, g.fetch(map[string]any{"url": srv.URL}), "network", "network:outbound:"+hp, hp)
}

func TestHostFetchLimitsAndErrors(t *testing.T) {
	release := make(chan struct{})
	srv, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write(make([]byte, hostLimits.MaxReplyBytes+1))
		case "/fits":
			_, _ = w.Write(make([]byte, hostLimits.MaxReplyBytes))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	})
	t.Cleanup(func() { close(release) })
	f := hostNewEnv(t, nil, "network:outbound:127.0.0.1:"+port, "network:outbound:127.0.0.1:1")
	g := hostInstantiate(t, "host_calls.wat", f.env)

	if r := g.fetch(map[string]any{"url": srv.URL + "/fits"}); r <= 0 {
		t.Errorf("a body of exactly MaxReplyBytes = %d (%q)", r, f.env.result)
	}
	g.wantCode("big body", g.fetch(map[string]any{"url": srv.URL + "/big"}), -abi.CodeTooLarge, f.env, "response body")
	g.wantCode("timeout_ms", g.fetch(map[string]any{"url": srv.URL + "/slow", "timeout_ms": 20}), -abi.CodeTimeout, f.env, "timeout")
	g.wantCode("connection refused", g.fetch(map[string]any{"url": "http://127.0.0.1:1/"}), -abi.CodeFailed, f.env, "failed")
	p, n := g.put([]byte(`{"url":"` + srv.URL + `","url2":1}`))
	g.wantCode("unknown field", g.call("http_fetch", p, n), -abi.CodeInvalid, f.env, "url2")
	g.wantCode("oversize request", g.fetch(map[string]any{"url": srv.URL, "body": make([]byte, hostLimits.MaxMessageBytes)}),
		-abi.CodeTooLarge, f.env, "request of")
	if n := f.denials(t, "network"); n != 0 {
		t.Errorf("%d denials, want 0", n)
	}
}

func TestParseFetchRequest(t *testing.T) {
	for _, tc := range []struct {
		in, wantErr string
	}{
		{`{"url":"http://a.example/x"}`, ""},
		{`{"method":"PATCH","url":"https://a.example","header":{"A":["1"]},"body":"aGk=","timeout_ms":1}`, ""},
		{`{"url":"ftp://a.example/x"}`, "scheme"},
		{`{"url":"file:///etc/passwd"}`, "scheme"},
		{`{"url":"/relative"}`, "scheme"},
		{`{"url":"http:///nohost"}`, "no host"},
		{`{"url":"http://a.example","extra":1}`, "unknown field"},
		{`{"url":"http://a.example"} {}`, "after the JSON"},
		{`{"url":"http://a.example"`, "not valid JSON"},
		{`{"url":"http://a.example","method":"GET /x"}`, "method"},
		{`{"url":"http://a.example","header":{"Bad Name":["x"]}}`, "header name"},
		{`{"url":"http://a.example","header":{"A":["x\r\nInjected: 1"]}}`, "CR, LF"},
		{`{"url":"http://a.example","timeout_ms":-1}`, "timeout_ms"},
		{`{"url":"http://a.example","timeout_ms":9999999999999}`, "timeout_ms"},
		{`null`, "scheme"},
	} {
		_, _, err := parseFetchRequest([]byte(tc.in))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("parseFetchRequest(%s) = %v, want error containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func FuzzFetchRequest(f *testing.F) {
	for _, seed := range []string{
		`{"url":"http://a.example/x"}`,
		`{"method":"POST","url":"https://[::1]:8443/p?q=1","header":{"A":["1"]},"body":"aGk=","timeout_ms":100}`,
		`{"url":"http://a.example","header":{"A":["x\r\n"]}}`,
		`{"url":"HTTP://A.EXAMPLE:80"}`, `{"url":"http://user:pw@a.example"}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, u, err := parseFetchRequest(b)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || !isToken(r.Method) {
			t.Fatalf("accepted %q: scheme %q host %q method %q", b, u.Scheme, u.Hostname(), r.Method)
		}
		if _, err := http.NewRequest(r.Method, u.String(), nil); err != nil {
			t.Fatalf("accepted %q, which net/http refuses: %v", b, err)
		}
	})
}

// TestFetchClientDialsOnlyGrantedAddresses bypasses the URL check to show
// the dialer refuses on its own: a request the host never checked (a bug,
// or a name that resolves elsewhere) still cannot connect.
func TestFetchClientDialsOnlyGrantedAddresses(t *testing.T) {
	srv, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) {})
	caps, err := ParseCapabilities([]string{"network:outbound:127.0.0.1:" + port})
	if err != nil {
		t.Fatal(err)
	}
	c := newFetchClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}, caps)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("granted address: %v", err)
	}
	resp.Body.Close()
	_, err = c.Get("http://localhost:" + port + "/")
	var denied *networkDeniedError
	if !errors.As(err, &denied) || denied.hostPort() != net.JoinHostPort("localhost", port) {
		t.Fatalf("dial to an ungranted name = %v, want a network denial", err)
	}
}

// hostRoundTripper is a transport newFetchClient cannot re-arm.
type hostRoundTripper struct{ http.RoundTripper }

func TestFetchClientWrapsForeignTransport(t *testing.T) {
	srv, port := hostServer(t, func(w http.ResponseWriter, r *http.Request) {})
	caps, _ := ParseCapabilities([]string{"network:outbound:127.0.0.1:" + port})
	c := newFetchClient(&http.Client{Transport: hostRoundTripper{http.DefaultTransport}}, caps)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("granted URL: %v", err)
	}
	resp.Body.Close()
	var denied *networkDeniedError
	if _, err := c.Get("http://localhost:" + port); !errors.As(err, &denied) {
		t.Fatalf("ungranted URL = %v, want a network denial", err)
	}
}
